// A Hugging Face checkpoint folder's weights: single or sharded safetensors, looked up by HF weight name.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DType, Tensor } from '../torch/index.js';
import { IclitError } from '../util/errors.js';
import { SafetensorsFile, type TensorInfo } from './safetensors.js';

const SINGLE = 'model.safetensors';
const INDEX = 'model.safetensors.index.json';

/** Weight lookup by name across the files of one checkpoint; tensors are memory-mapped views. */
export class CheckpointWeights {
  readonly #files = new Map<string, SafetensorsFile>();
  readonly #where = new Map<string, string>();

  private constructor(readonly dir: string) {}

  /** Opens `dir/model.safetensors` or the shards listed in `dir/model.safetensors.index.json`. */
  static open(dir: string): CheckpointWeights {
    const w = new CheckpointWeights(dir);
    const indexPath = join(dir, INDEX);
    if (existsSync(indexPath)) {
      let index: { weight_map?: Record<string, string> };
      try {
        index = JSON.parse(readFileSync(indexPath, 'utf8'));
      } catch (e) {
        throw new IclitError(`${indexPath} is not valid JSON: ${(e as Error).message}`);
      }
      if (!index.weight_map || typeof index.weight_map !== 'object') throw new IclitError(`${indexPath} has no weight_map`);
      const shards = new Set(Object.values(index.weight_map));
      for (const shard of shards) {
        const p = join(dir, shard);
        if (!existsSync(p)) throw new IclitError(`missing shard ${shard} (listed in ${indexPath})`);
        w.#files.set(shard, SafetensorsFile.open(p));
      }
      for (const [name, shard] of Object.entries(index.weight_map)) {
        if (!w.#files.get(shard)!.info(name)) throw new IclitError(`${INDEX} says ${name} is in ${shard}, but that shard has no such tensor`);
        w.#where.set(name, shard);
      }
    } else if (existsSync(join(dir, SINGLE))) {
      const f = SafetensorsFile.open(join(dir, SINGLE));
      w.#files.set(SINGLE, f);
      for (const name of f.names()) w.#where.set(name, SINGLE);
    } else {
      throw new IclitError(`${dir} has neither ${SINGLE} nor ${INDEX}`);
    }
    return w;
  }

  has(name: string): boolean {
    return this.#where.has(name);
  }

  names(): string[] {
    return [...this.#where.keys()];
  }

  info(name: string): TensorInfo | undefined {
    const file = this.#where.get(name);
    return file ? this.#files.get(file)!.info(name) : undefined;
  }

  /**
   * The weight `name` checked against `shape` and converted to `dtype` on `device`. On the CPU it is a zero-copy
   * view of the mapped file when the stored dtype already matches; on a GPU the stored bytes are copied from the
   * mapping straight to the device and converted there, so no converted copy is ever made on the host. The caller
   * owns the returned tensor.
   */
  get(name: string, shape: readonly number[], dtype: DType, device = 'cpu'): Tensor {
    const file = this.#where.get(name);
    if (!file) throw new IclitError(`the checkpoint in ${this.dir} has no weight '${name}'`);
    const f = this.#files.get(file)!;
    const info = f.info(name)!;
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
      throw new IclitError(`weight '${name}' in ${file} has shape [${info.shape.join(', ')}], the config implies [${shape.join(', ')}]`);
    }
    const view = f.tensor(name);
    if (device === 'cpu' && view.dtype === dtype) return view;
    const converted = device === 'cpu' ? view.to(dtype) : view.toDeviceAs(device, dtype);
    view.dispose();
    return converted;
  }

  close(): void {
    for (const f of this.#files.values()) f.close();
  }
}
