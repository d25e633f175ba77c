// `iclit run paper`: the whole paper into one results tree — say up front what runs and what is skipped, run each preset, print where.
import { progress } from '../common.js';
import { openPaper, type RunSettings } from '../../study/index.js';

/** What the whole paper costs, estimated from FLOPs (said in --help and README). */
export const PAPER_COST =
  'cost (an estimate from FLOPs, not a measurement): every experiment at 30 repeats is about 3×10^16 FLOP on LLaMA-2-7B ' +
  '(2 × 6.7×10^9 parameters × the tokens read and tuned: 26 conditions × ~1,200 token passes per repeat, plus the accuracy ' +
  "preset's 100 evaluation examples × 3 situations), twice that on 13B: about 15–30 minutes on one A100/H100-class GPU " +
  'sustaining 15–30 TFLOP/s; on a CPU close to its bfloat16 GEMM rate: about 1.5 days at the ~250 GFLOP/s of a 2-core ' +
  'AVX-512-BF16 machine, several days without native bfloat16 (iclit run PRESET --dry-run estimates one experiment on yours)';

/** Runs `iclit run paper`; `line` prints one progress line for a preset. */
export async function runPaper(
  settings: RunSettings,
  out: string,
  opts: { force: boolean; shard?: { index: number; count: number }; note: (line: string) => void; line: (preset: string, text: string) => string },
): Promise<void> {
  const paper = await openPaper(settings, out, { force: opts.force, onNote: opts.note, shard: opts.shard });
  try {
    const { parts, skipped } = paper.plan;
    opts.note(`paper: ${parts.length} experiment(s) into ${out}/: ${parts.map((p) => `${p.preset.name} (${p.figures.join(', ')})`).join(', ')}`);
    for (const s of skipped) opts.note(`paper: skipping ${s.preset} (${s.figures.join(', ')}): it needs ${s.missing}`);
    const total = await paper.run({
      shard: opts.shard,
      onProgress: (e, _i, preset) => progress(opts.line(preset, `${e.model} ${e.done}/${e.total} repeats${e.skipped ? ` (${e.skipped} already done)` : ''}`)),
      onPreset: (preset, r) => {
        if (process.stderr.isTTY) process.stderr.write('\n');
        process.stderr.write(`${preset}: ${r.computed} repeat(s) computed, ${r.skipped} already done (${Math.round(r.wallSeconds)}s)\n`);
      },
    });
    process.stderr.write(`paper: ${total.computed} repeat(s) computed, ${total.skipped} already done → ${out} (${Math.round(total.wallSeconds)}s); report it with: iclit report ${out} --out REPORT_DIR\n`);
  } finally {
    paper.close();
  }
}
