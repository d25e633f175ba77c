// `iclit run`: parse the flags (or a YAML config) → openStudy (checks, manifest, folder) → study.run → print.
import { existsSync, statSync } from 'node:fs';
import { str, type Command, type FlagSpec } from '../args.js';
import { applyThreads, progress, threadFlags } from '../common.js';
import { UsageError } from '../../util/errors.js';
import { PRESET_NAMES } from '../../experiments/index.js';
import { PAPER_TARGET, ProgressReporter, SETTINGS, Ticker, estimateLine, estimateStudy, flagSettings, formatDuration, loadSettingsFile, mergeSettings, openStudy, type StudyEstimate } from '../../study/index.js';
import { PAPER_COST, runPaper } from './run-paper.js';
import { threadSetup } from '../../torch/index.js';

/** `--shard I/N` → {index, count}. */
function parseShard(spec: string | undefined): { index: number; count: number } | undefined {
  if (spec === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(spec);
  if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) throw new UsageError(`--shard must be I/N with 0 ≤ I < N, got '${spec}'`);
  return { index: Number(m[1]), count: Number(m[2]) };
}

/** The study's settings as flags (one definition: src/study/settings.ts), plus the flags of the command itself. */
const settingFlags: Record<string, FlagSpec> = Object.fromEntries(
  SETTINGS.filter((s) => s.flag).map((s) => [s.flag!, { type: s.kind === 'bool' ? 'boolean' : 'string', multiple: s.kind === 'paths' || undefined, value: s.value, description: s.help } as FlagSpec]),
);

export const run: Command = {
  name: 'run',
  summary: 'run a study preset (or a YAML config, or every experiment of the paper) and store every repeat in a results folder (resumable)',
  usage:
    `run <${PRESET_NAMES.join('|')}|config.yaml> --model DIR --data PATH [options] --out RESULTS_DIR\n` +
    `  run paper --model DIR [--model DIR2] --data SST2 --translation-data WMT16 --encoder DIR [options] --out RESULTS_DIR\n` +
    `    every experiment of the paper, one folder per preset under RESULTS_DIR (a missing input skips only what needs it); ${PAPER_COST}`,
  flags: {
    ...settingFlags,
    ...threadFlags,
    shard: { type: 'string', value: 'I/N', description: 'compute only worker I of N (0-based) of the repeats; combine the folders with iclit merge' },
    'dry-run': { type: 'boolean', description: 'check everything and print the estimate (FLOPs, time on this device, peak memory), then stop: nothing is written' },
    force: { type: 'boolean', description: 'on a changed setup, move the folder\'s earlier records, states and adapters to superseded/ and start anew' },
    verbose: { type: 'boolean', description: 'say on stderr how threads, device and dtype are set up' },
    out: { type: 'string', short: 'o', value: 'RESULTS_DIR', description: 'results folder (created; re-running resumes it)' },
  },
  async run(flags, positionals) {
    // parse
    if (positionals.length !== 1) throw new UsageError(`expected one preset (${PRESET_NAMES.join(', ')}), paper or config.yaml, got ${positionals.length} arguments`);
    const target = positionals[0];
    const out = str(flags, 'out');
    if (!out) throw new UsageError('--out RESULTS_DIR is required');
    const fromFile = /\.ya?ml$/i.test(target) || (existsSync(target) && statSync(target).isFile());
    const file = fromFile ? loadSettingsFile(target) : { preset: target };
    if (fromFile && !file.preset) throw new UsageError(`${target}: key 'preset' is missing (one of ${PRESET_NAMES.join(', ')})`);
    const settings = mergeSettings(file, flagSettings(flags));
    const shard = parseShard(str(flags, 'shard'));
    if (settings.translationData && settings.preset !== PAPER_TARGET) throw new UsageError(`--translation-data is for \`iclit run paper\`; give ${settings.preset}'s data with --data (or --demo-data for cross-task)`);
    applyThreads(flags);
    // validate + open (nothing is written before every check passed)
    const note = (line: string): void => void process.stderr.write(`iclit: ${line}\n`);
    if (settings.preset === PAPER_TARGET) {
      await runPaper(settings, out, { force: Boolean(flags.force), shard, dryRun: Boolean(flags['dry-run']), note });
      return 0;
    }
    // --dry-run: the checks and the estimate, nothing written; otherwise the folder is opened (or refused) first
    if (flags['dry-run']) {
      note(estimateLine(await estimateStudy(settings, { shard })));
      return 0;
    }
    // the estimate comes from openStudy's own checks, at the batch the run uses, before the folder is written
    let estimate: StudyEstimate | undefined;
    const onEstimate = (e: StudyEstimate): void => {
      estimate = e;
      note(estimateLine(e));
    };
    const study = await openStudy(settings, out, { force: Boolean(flags.force), onNote: note, shard, onEstimate });
    try {
      if (!estimate) throw new Error('openStudy gave no estimate'); // a bug, not bad input
      if (study.compute.dtypeNote) note(study.compute.dtypeNote);
      if (study.compute.note && (flags.verbose || flags.device !== undefined || file.device !== undefined)) note(study.compute.note);
      if (flags.verbose) note(`${threadSetup()}; device ${study.compute.device}, dtype ${study.compute.dtype}, batch ${study.compute.batch}`);
      if (study.supersededTo) note(`--force: the earlier setup's records, states and adapters were moved to ${study.supersededTo}`);
      // run
      // on a terminal the line is redrawn as work moves, and by a ticker thread while a native call runs long
      const ticker = process.stderr.isTTY ? new Ticker(process.stderr.fd) : undefined;
      const reporter = new ProgressReporter(estimate, { tty: Boolean(ticker), write: (line, _final, parts) => (ticker ? ticker.draw(parts) : progress(line)) });
      let s: Awaited<ReturnType<typeof study.run>>;
      try {
        s = await study.run({ shard, onProgress: (e, i) => reporter.repeat(e, i), onWork: (e) => reporter.work(e) });
      } finally {
        await ticker?.stop();
        if (ticker) process.stderr.write('\n'); // an error's line starts on its own line, not after the progress bar
      }
      // print
      process.stderr.write(`${study.preset.name}: ${s.computed} repeat(s) computed, ${s.skipped} already done, ${study.models.length} model(s) → ${out} (${formatDuration(s.wallSeconds * 1000)})\n`);
    } finally {
      study.close();
    }
    return 0;
  },
};
