// `iclit merge`: combines the results folders of several workers (e.g. `iclit run --shard I/N`) into one.
import { UsageError } from '../../util/errors.js';
import { checkOutputApart, checkOutputDir } from '../../util/fs.js';
import { mergeResults, resultsInputs } from '../../results/index.js';
import { required, type Command } from '../args.js';

export const merge: Command = {
  name: 'merge',
  summary: 'merge results folders of one setup (shards run on several machines) into one folder',
  usage: 'merge RESULTS_DIR [RESULTS_DIR ...] --out MERGED_DIR',
  flags: {
    out: { type: 'string', short: 'o', value: 'DIR', description: 'merged results folder (created; may already hold some of the records)' },
    json: { type: 'boolean', description: 'print the summary as JSON on stdout' },
  },
  async run(flags, positionals) {
    const out = required(flags, 'out');
    if (positionals.length === 0) throw new UsageError('give the results folders to merge');
    checkOutputDir(out, 'merged folder');
    checkOutputApart(out, 'merged folder', positionals.flatMap(resultsInputs));
    const s = mergeResults(out, positionals);
    if (flags.json) process.stdout.write(JSON.stringify({ out, ...s }) + '\n');
    process.stderr.write(`merged ${s.sources} folder(s) into ${out}: ${s.added} record(s) added, ${s.identical} already there\n`);
    return 0;
  },
};
