// `iclit export`: a results folder's records as one CSV, Parquet or JSONL table (to a file or stdout).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from '../args.js';
import { oneOf, str } from '../args.js';
import { IclitError, UsageError } from '../../util/errors.js';
import { checkOutputApart, checkOutputFile } from '../../util/fs.js';
import { EXPORT_FORMATS, ResultsStore, exportRecords, readRecordStates, resultsInputs, type ExportFormat } from '../../results/index.js';

/** The format named by --format, else guessed from --out's extension. */
function formatOf(flags: Record<string, unknown>): ExportFormat {
  const f = oneOf(flags, 'format', EXPORT_FORMATS);
  if (f) return f;
  const ext = /\.(csv|parquet|jsonl)$/i.exec(str(flags, 'out') ?? '')?.[1]?.toLowerCase();
  if (ext) return ext as ExportFormat;
  throw new UsageError(`--format is required (${EXPORT_FORMATS.join(', ')})`);
}

function writeStdout(data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(data, (err) => (err ? reject(err) : resolve()));
  });
}

export const exportCommand: Command = {
  name: 'export',
  summary: 'export a results folder as one table (csv, parquet or jsonl), one row per repeat × condition',
  usage: 'export RESULTS_DIR --format csv|parquet|jsonl [--out FILE] [--experiment NAME]',
  maxPositionals: 1,
  flags: {
    format: { type: 'string', value: 'FORMAT', description: 'csv, parquet or jsonl (default: from the --out extension)' },
    out: { type: 'string', short: 'o', value: 'FILE', description: 'write here instead of stdout' },
    experiment: { type: 'string', value: 'NAME', description: 'only this experiment' },
    model: { type: 'string', value: 'LABEL', description: 'only this model' },
  },
  async run(flags, positionals) {
    if (positionals.length !== 1) throw new UsageError(`expected one RESULTS_DIR, got ${positionals.length} arguments (see iclit export --help)`);
    const dir = positionals[0];
    const format = formatOf(flags);
    const out = str(flags, 'out');
    if (out === undefined && format === 'parquet' && process.stdout.isTTY) {
      throw new UsageError('refusing to write Parquet (binary) to a terminal: pass --out FILE or redirect stdout');
    }
    const experiment = str(flags, 'experiment');
    const model = str(flags, 'model');
    // the file is checked before the folder is read; its folder is created when missing
    if (out !== undefined) checkOutputFile(out, 'export file');
    if (out !== undefined) checkOutputApart(out, 'export file', resultsInputs(dir));
    const store = ResultsStore.open(dir, { readonly: true });
    let data: string | Buffer;
    try {
      const records = store.records({ experiment, model });
      if (records.length === 0 && (experiment !== undefined || model !== undefined)) {
        const what = [experiment !== undefined ? `experiment '${experiment}'` : '', model !== undefined ? `model '${model}'` : ''].filter(Boolean).join(' and ');
        const have = store.experiments();
        throw new IclitError(`no records for ${what} in ${dir} (experiments there: ${have.length ? have.join(', ') : 'none'})`);
      }
      if (records.length === 0) process.stderr.write(`iclit: ${dir} holds no records yet; writing an empty table\n`);
      data = exportRecords(records, format, { statesOf: (r) => readRecordStates(dir, r) });
    } finally {
      store.close();
    }
    if (out === undefined) {
      await writeStdout(data);
    } else {
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, data);
    }
    return 0;
  },
};
