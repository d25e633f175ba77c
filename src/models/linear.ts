// The linear layer every projection goes through, so that adapters (LoRA) can wrap it without editing models.
import { linear, type Tensor } from '../torch/index.js';

/**
 * How the rows of a linear layer's input split into sequences: the decoder runs sequences packed back to back, so
 * its input is [N, in] with N = Σ lengths. Plain layers ignore it; batched LoRA adapters use it to find each
 * adapter's rows and each sequence's dropout mask.
 */
export interface RowLayout {
  /** Token rows of each sequence, in order (sequence b's rows follow sequence b−1's). */
  lengths: readonly number[];
}

/** Anything that maps [..., in] → [..., out] like torch.nn.Linear. */
export interface LinearLike {
  readonly inFeatures: number;
  readonly outFeatures: number;
  forward(x: Tensor, rows?: RowLayout): Tensor;
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
