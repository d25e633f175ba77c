// The linear layer every projection goes through, so that adapters (LoRA) can wrap it without editing models.
import { linear, type Tensor } from '../torch/index.js';

/** Anything that maps [..., in] → [..., out] like torch.nn.Linear. */
export interface LinearLike {
  readonly inFeatures: number;
  readonly outFeatures: number;
  forward(x: Tensor): Tensor;
  dispose(): void;
}

/** y = x Wᵀ + b with frozen weights W [out, in] and optional bias b [out]. */
export class Linear implements LinearLike {
  constructor(
    readonly weight: Tensor,
    readonly bias: Tensor | null,
  ) {}
  get inFeatures(): number {
    return this.weight.shape[1];
  }
  get outFeatures(): number {
    return this.weight.shape[0];
  }
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias); // [..., out]
  }
  dispose(): void {
    this.weight.dispose();
    this.bias?.dispose();
  }
}
