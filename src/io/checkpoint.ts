// A Hugging Face checkpoint folder's weights: single or sharded safetensors, looked up by HF weight name.
import { existsSync, lstatSync } from 'node:fs';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { isFloating, tidy, type DType, type Tensor } from '../torch/index.js';
import { IclitError } from '../util/errors.js';
import { readJsonObject } from './json-file.js';
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
      const index = readJsonObject(indexPath) as { weight_map?: Record<string, string> };
      if (!index.weight_map || typeof index.weight_map !== 'object' || Array.isArray(index.weight_map)) {
        throw new IclitError(`${indexPath} has no weight_map object`);
      }
      for (const [name, shard] of Object.entries(index.weight_map)) checkShardName(indexPath, name, shard);
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
      const link = [SINGLE, INDEX].map((f) => join(dir, f)).find((p) => isLink(p));
      if (link) throw new IclitError(`${link} is a symbolic link that does not resolve to a file (a loop, or a missing target)`);
      throw new IclitError(`${dir} has neither ${SINGLE} nor ${INDEX}`);
    }
    return w;
  }

  /** How many safetensors files hold the weights (1, or the shards of the index). */
  get fileCount(): number {
    return this.#files.size;
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

  /** The path of the file that holds weight `name` (for messages). */
  fileOf(name: string): string | undefined {
    const file = this.#where.get(name);
    return file ? join(this.dir, file) : undefined;
  }

  /** A zero-copy view of weight `name` as stored (its own dtype; the caller disposes it). */
  view(name: string): Tensor {
    const file = this.#where.get(name);
    if (!file) throw new IclitError(`the checkpoint in ${this.dir} has no weight '${name}'`);
    return this.#files.get(file)!.tensor(name);
  }

  /**
   * The weight `name` checked against `shape` and converted to `dtype` on `device`, refused when it holds NaN or ±Inf
   * (after conversion, so an overflow to bfloat16 counts). On the CPU it is a zero-copy view of the mapped file when
   * the stored dtype already matches; on a GPU the stored bytes go from the mapping straight to the device and are
   * converted there, so no converted copy is ever made on the host. The caller owns the returned tensor.
   */
  get(name: string, shape: readonly number[], dtype: DType, device = 'cpu'): Tensor {
    const file = this.#where.get(name);
    if (!file) throw new IclitError(`the checkpoint in ${this.dir} has no weight '${name}'`);
    const f = this.#files.get(file)!;
    const info = f.info(name)!;
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
      throw new IclitError(`weight '${name}' in ${file} has shape [${info.shape.join(', ')}], the config implies [${shape.join(', ')}]`);
    }
    if (!isFloating(info.dtype)) throw new IclitError(`weight '${name}' in ${join(this.dir, file)} is stored as ${info.dtype}; model weights must be floating point (float32, float16, bfloat16)`);
    const view = f.tensor(name);
    const out = device !== 'cpu' ? view.toDeviceAs(device, dtype) : view.dtype === dtype ? view : view.to(dtype);
    if (out !== view) view.dispose();
    try {
      checkFinite(out, `weight '${name}' in ${join(this.dir, file)}`);
    } catch (e) {
      out.dispose();
      throw e;
    }
    return out;
  }

  /**
   * Names in the checkpoint that `used` does not contain (the weights a model built from its config ignores),
   * leaving out the rotary `inv_freq` buffers that old checkpoints carry and Hugging Face ignores too.
   */
  unused(used: Iterable<string>): string[] {
    const want = new Set(used);
    return this.names().filter((n) => !want.has(n) && !n.endsWith('rotary_emb.inv_freq'));
  }

  close(): void {
    for (const f of this.#files.values()) f.close();
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** A weight_map entry must name a file inside the model folder: a relative path that does not climb out of it. */
function checkShardName(indexPath: string, name: string, shard: unknown): void {
  if (typeof shard !== 'string' || shard === '') throw new IclitError(`${indexPath}: weight_map["${name}"] must be a file name, got ${JSON.stringify(shard)}`);
  const n = normalize(shard);
  if (isAbsolute(shard) || n === '..' || n.startsWith(`..${sep}`) || n.startsWith('../')) {
    throw new IclitError(`${indexPath}: weight_map["${name}"] names ${JSON.stringify(shard)}, outside the model folder`);
  }
}

/**
 * Throws naming `what` when `t` holds NaN or ±Inf; integer tensors pass untouched. The sum is NaN or ±Inf whenever
 * an element is, and costs one vectorised pass (≈ 40 ms for 135M float32 weights on 2 cores, 15× cheaper than a
 * mask); only a non-finite sum (a bad element, or finite values overflowing) pays for the exact count.
 */
export function checkFinite(t: Tensor, what: string): void {
  if (!isFloating(t.dtype)) return;
  if (Number.isFinite(tidy(() => t.sum().item()))) return;
  const bad = tidy(() => t.isFinite().logicalNot().sum().item());
  if (bad === 0) return;
  const nan = tidy(() => t.ne(t).sum().item());
  const parts = [nan > 0 ? `${nan} NaN` : '', bad - nan > 0 ? `${bad - nan} infinite` : ''].filter(Boolean).join(' and ');
  throw new IclitError(`${what} holds ${parts} value(s) of ${t.numel}; a study on it would store NaN similarities`);
}

/**
 * Checks a checkpoint against the weights its config implies (`expected`, HF names): a missing one is an error
 * naming it (e.g. config.json says more layers than the checkpoint holds); weights the config does not use
 * (fewer layers) give one warning line, returned for the caller to print, as Hugging Face warns.
 */
export function matchCheckpoint(weights: CheckpointWeights, expected: Iterable<string>, numLayers: number): string | undefined {
  const names = [...expected];
  const missing = names.find((n) => !weights.has(n));
  if (missing !== undefined) {
    const layer = /^model\.layers\.(\d+)\./.exec(missing);
    const why = layer ? ` (config.json says num_hidden_layers ${numLayers})` : '';
    throw new IclitError(`the checkpoint in ${weights.dir} has no weight '${missing}'${why}`);
  }
  const unused = weights.unused(names);
  if (unused.length === 0) return undefined;
  const shown = unused.length > 6 ? `${unused.slice(0, 6).join(', ')}, … (${unused.length - 6} more)` : unused.join(', ');
  return `warning: ${unused.length} weight(s) in ${weights.dir} are not used by its config.json (num_hidden_layers ${numLayers}): ${shown}`;
}
