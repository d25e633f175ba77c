// `iclit run paper`: the whole paper into one results tree — say up front what runs, what is skipped and what it will cost, run each preset with its progress line, print where.
import { progress } from '../common.js';
import { estimatePaper, openPaper, paperEstimateLine, ProgressReporter, Ticker, type RunSettings, type StudyEstimate } from '../../study/index.js';

/** What the whole paper costs, estimated from FLOPs (said in --help and README). */
export const PAPER_COST =
  'cost (an estimate from FLOPs, not a measurement): every experiment at 30 repeats is about 3×10^16 FLOP on LLaMA-2-7B ' +
  '(2 × 6.7×10^9 parameters × the tokens read and tuned: 26 conditions × ~1,200 token passes per repeat, plus the accuracy ' +
  "preset's 100 evaluation examples × 3 situations), twice that on 13B: about 15–30 minutes on one A100/H100-class GPU " +
  'sustaining 15–30 TFLOP/s; on a CPU close to its bfloat16 GEMM rate: about 1.5 days at the ~250 GFLOP/s of a 2-core ' +
  'AVX-512-BF16 machine, several days without native bfloat16 (iclit run paper --dry-run estimates it on yours)';

export interface RunPaperOptions {
  force: boolean;
  shard?: { index: number; count: number };
  /** --dry-run: every check and the estimate, nothing written. */
  dryRun?: boolean;
  note: (line: string) => void;
}

/** Runs `iclit run paper` (or, with dryRun, estimates it). */
export async function runPaper(settings: RunSettings, out: string, opts: RunPaperOptions): Promise<void> {
  if (opts.dryRun) {
    const { plan, estimates } = await estimatePaper(settings, out, { shard: opts.shard });
    for (const s of plan.skipped) opts.note(`paper: skipping ${s.preset} (${s.figures.join(', ')}): it needs ${s.missing}`);
    opts.note(paperEstimateLine(estimates));
    return;
  }
  // each preset's estimate comes from its own openStudy checks, before anything is written
  const estimates = new Map<string, StudyEstimate>();
  const paper = await openPaper(settings, out, { force: opts.force, onNote: opts.note, shard: opts.shard, onEstimate: (e) => estimates.set(e.preset, e) });
  try {
    const { parts, skipped } = paper.plan;
    opts.note(`paper: ${parts.length} experiment(s) into ${out}/: ${parts.map((p) => `${p.preset.name} (${p.figures.join(', ')})`).join(', ')}`);
    for (const s of skipped) opts.note(`paper: skipping ${s.preset} (${s.figures.join(', ')}): it needs ${s.missing}`);
    opts.note(paperEstimateLine(parts.map((p) => estimates.get(p.preset.name)!)));
    const dtypeNote = paper.studies.find((st) => st.compute.dtypeNote)?.compute.dtypeNote;
    if (dtypeNote) opts.note(dtypeNote);
    // one progress line per preset, as `iclit run` draws it (redrawn on a terminal, a line per repeat otherwise)
    const ticker = process.stderr.isTTY ? new Ticker(process.stderr.fd) : undefined;
    let reporter: ProgressReporter | undefined;
    let total;
    try {
      total = await paper.run({
        shard: opts.shard,
        onStart: (preset) => {
          reporter = new ProgressReporter(estimates.get(preset)!, { tty: Boolean(ticker), write: (line, _final, p) => (ticker ? ticker.draw({ ...p, head: `${preset}: ${p.head}` }) : progress(`${preset}: ${line}`)) });
        },
        onProgress: (e, i) => reporter?.repeat(e, i),
        onWork: (e) => reporter?.work(e),
        onPreset: (preset, r) => {
          if (process.stderr.isTTY) process.stderr.write('\n');
          process.stderr.write(`${preset}: ${r.computed} repeat(s) computed, ${r.skipped} already done (${Math.round(r.wallSeconds)}s)\n`);
        },
      });
    } finally {
      await ticker?.stop();
    }
    process.stderr.write(`paper: ${total.computed} repeat(s) computed, ${total.skipped} already done → ${out} (${Math.round(total.wallSeconds)}s); report it with: iclit report ${out} --out REPORT_DIR\n`);
  } finally {
    paper.close();
  }
}
