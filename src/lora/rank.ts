// LoRA's rank against the model it adapts: r above min(in, out) of a target adds no expressiveness, only memory (100000 on a 128-wide model passed 2 GB in seconds).
import { layerLinears, type DecoderConfig } from '../io/index.js';
import { UsageError } from '../util/errors.js';

/** Refuses rank `r` above min(in, out) of any `targets` module (q_proj, …) of `config`; `flag` names the setting. */
export function checkLoraRank(config: DecoderConfig, r: number, targets: readonly string[], flag: string): void {
  for (const l of layerLinears(config)) {
    if (!targets.some((t) => l.name.endsWith(`.${t}`))) continue;
    const limit = Math.min(l.in, l.out);
    if (r > limit) throw new UsageError(`${flag} ${r} is larger than ${l.name.split('.').pop()}'s min(in ${l.in}, out ${l.out}) = ${limit}; a LoRA rank is at most that`);
  }
}
