// Every command walked through its bad arguments: usage mistakes exit 2, bad inputs exit 1, each as one line `iclit: …` — never a stack trace, an internal error (70) or a hang.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { writeTinyStudy } from '../experiments/testing.js';
import { DB_FILE } from '../results/index.js';
import { repoRoot } from '../util/paths.js';
import { commands } from './commands/index.js';
import { runCli } from './testing.js';
import { tempDir } from '../util/testing.js';

/**
 * One bad command line: the exit code and what its one line says; `progress`: run's progress lines may come
 * first; `spawn`: run as a separate process with a time limit (a regression would hang, not fail, in-process).
 */
interface Case {
  args: string[];
  code: 1 | 2;
  says: RegExp;
  progress?: boolean;
  spawn?: boolean;
}

const root = tempDir(test, 'iclit-exit-');
const tiny = writeTinyStudy(root);
const p = (name: string): string => join(root, name);
const file = p('afile.txt');
const folder = p('afolder');
const dangling = p('dangling');
const results = p('results');
const damaged = p('damaged');
const broken = p('broken-model');
/** The arguments that made `results` (a run into `damaged` with them gets as far as its records). */
const study = ['convergence', '--model', tiny.model, '--data', tiny.sst2, '--repeats', '1', '--epochs', '1'];

before(async () => {
  writeFileSync(file, 'not a folder\n');
  mkdirSync(folder);
  symlinkSync(p('nowhere'), dangling);
  const made = await runCli(['run', ...study, '--out', results]);
  assert.equal(made.code, 0, made.err);
  // a results database with a damaged page (the records'), and a model whose weights file is cut short
  cpSync(results, damaged, { recursive: true });
  const fd = openSync(join(damaged, DB_FILE), 'r+');
  writeSync(fd, Buffer.alloc(4096, 0xab), 0, 4096, 3 * 4096);
  closeSync(fd);
  cpSync(tiny.model, broken, { recursive: true });
  truncateSync(join(broken, 'model.safetensors'), 200);
  writeFileSync(p('latin1.tsv'), Buffer.concat([Buffer.from('sentence\tlabel\ngood one\t1\ncaf'), Buffer.from([0xe9]), Buffer.from(' bad\t0\n')]));
  // two rows (one inference example + one demonstration per repeat); line 2 is over max_position_embeddings 1024
  writeFileSync(p('long.tsv'), `sentence\tlabel\n${'wonderful acting '.repeat(600)}\t1\na dull mess .\t0\n`);
  writeFileSync(p('train.jsonl'), '{"input_ids": [1, 2, 3]}\n');
  writeFileSync(p('oov.jsonl'), '{"input_ids": [1, 2, 3]}\n{"input_ids": [1, 400, 3]}\n');
  writeFileSync(p('notjson.jsonl'), '{"input_ids": [1, 2, 3]}\n{input_ids: oops\n');
  writeFileSync(p('latin1.jsonl'), Buffer.concat([Buffer.from('{"text": "caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]));
  writeFileSync(p('ids.json'), '{"input_ids": [[1, 2');
  writeFileSync(p('empty.txt'), '\n');
  symlinkSync(p('loop'), p('loop'));
  // a tokenizer of a model type the library does not know, and a config.json whose JSON error quotes several lines
  cpSync(tiny.model, p('oddtok'), { recursive: true });
  const tj = JSON.parse(readFileSync(join(p('oddtok'), 'tokenizer.json'), 'utf8'));
  writeFileSync(join(p('oddtok'), 'tokenizer.json'), JSON.stringify({ ...tj, model: { ...tj.model, type: 'Mystery' } }));
  cpSync(tiny.model, p('badjson'), { recursive: true });
  writeFileSync(join(p('badjson'), 'config.json'), '{\n  "hidden_size": 32,\n  "oops"\n}\n');
  // a weights file that is a folder: the read fails on an open descriptor, which Node reports without a path
  cpSync(tiny.model, p('dirweights'), { recursive: true });
  rmSync(join(p('dirweights'), 'model.safetensors'));
  mkdirSync(join(p('dirweights'), 'model.safetensors'));
});

const usage = (args: string[], says: RegExp): Case => ({ args, code: 2, says });
const input = (args: string[], says: RegExp, progress = false): Case => ({ args, code: 1, says, progress });
/** An output under /proc: it used to spin at full CPU in node's recursive mkdir, so it runs in its own process. */
const proc = (args: string[]): Case => ({ args, code: 1, says: /is on the proc pseudo-filesystem; choose a folder on a real disk$/, spawn: true });
const DANGLING = /is a symbolic link to a missing target$/;

/** The bad command lines of every command (built after the fixtures exist). */
function cases(): Record<string, Case[]> {
  const model = ['--model', tiny.model];
  const ids = ['--ids', '1,2,3'];
  const act = (...more: string[]): string[] => ['activations', ...model, ...ids, ...more];
  const tune = (...more: string[]): string[] => ['tune', ...model, '--data', p('train.jsonl'), ...more];
  const run = (...more: string[]): string[] => ['run', 'convergence', ...model, '--data', tiny.sst2, ...more];
  return {
    run: [
      usage(['run', 'convergence', '--bogus'], /^Unknown option '--bogus'/),
      usage(['run', ...model, '--out', p('o')], /^expected one preset .* got 0 arguments/),
      usage(run(), /^--out RESULTS_DIR is required/),
      usage(['run', 'convergence', '--data', tiny.sst2, '--out', p('o')], /^no model given/),
      usage(run('--repeats', '-1', '--out', p('o')), /^--repeats must be an integer ≥ 1, got "-1"$/),
      usage(run('--repeats', 'many', '--out', p('o')), /^--repeats must be an integer ≥ 1, got "many"$/),
      usage(run('--lr', '-1', '--out', p('o')), /^--lr must be a positive number, got "-1"$/),
      usage(run('--layers', 'x', '--out', p('o')), /--layers/),
      usage(run('--shard', '3/2', '--out', p('o')), /^--shard must be I\/N/),
      usage(run('--repeats', '0x10', '--out', p('o')), /^--repeats must be an integer ≥ 1, got "0x10"$/),
      usage(run('--repeats', '9007199254740991', '--out', p('o')), /^--repeats must be an integer from 1 to 1000000, got "9007199254740991"$/),
      usage(run('--data', tiny.sst2, '--out', p('o')), /^--data is given 2 times; it takes one value/),
      usage(run('--out', p('o'), '--out', p('o2')), /^--out is given 2 times; it takes one value/),
      usage(run('--template-sentiment', 'Review: {text}', '--out', p('o')), /^--template-sentiment: template .* must start with \{instruction\}$/),
      usage(run('--lora-r', '100000', '--out', p('o')), /^--lora-r \(lora\.r\) 100000 is larger than q_proj's min\(in \d+, out \d+\) = \d+; a LoRA rank is at most that$/),
      usage(run('--out'), /^--out needs a value/),
      usage(['run', 'no-such-preset', ...model, '--data', tiny.sst2, '--out', p('o')], /^unknown preset 'no-such-preset'/),
      input(['run', 'convergence', '--model', file, '--data', tiny.sst2, '--out', p('o')], /afile\.txt is a file, not a model folder$/),
      input(['run', 'convergence', '--model', p('none'), '--data', tiny.sst2, '--out', p('o')], /^model folder .*none does not exist$/),
      input(['run', 'convergence', '--model', broken, '--data', tiny.sst2, '--out', p('o')], /model\.safetensors is not a valid safetensors file/),
      input(['run', 'convergence', ...model, '--data', folder, '--out', p('o')], /afolder is a folder, not a data file$/),
      input(['run', 'convergence', ...model, '--data', p('none.tsv'), '--out', p('o')], /^data file .*none\.tsv does not exist$/),
      input(['run', 'convergence', ...model, '--data', p('latin1.tsv'), '--out', p('o')], /latin1\.tsv:3: not valid UTF-8/),
      input(run('--instructions', p('latin1.tsv'), '--out', p('o')), /latin1\.tsv:3: not valid UTF-8/),
      input(run('--layers', '99', '--out', p('o')), /hidden state 99 is out of range/),
      proc(run('--out', '/proc/iclit-x')),
      input(run('--out', join(file, 'sub')), /afile\.txt is a file, not a folder$/),
      input(run('--out', dangling), DANGLING),
      input(['run', ...study, '--out', damaged], new RegExp(`damaged/${DB_FILE}`)),
      input(['run', 'convergence', ...model, '--data', p('long.tsv'), '--repeats', '1', '--epochs', '1', '--out', p('long')], /prompt of .*, repeat 0, is \d+ tokens, longer than the model's max_position_embeddings 1024; it holds .*long\.tsv:2 \((inference example|demonstration)\)/, true),
    ],
    report: [
      usage(['report', results, '--out', p('r'), '--bogus'], /^Unknown option '--bogus'/),
      usage(['report', '--out', p('r')], /^expected at least one RESULTS_DIR/),
      usage(['report', results], /^--out is required/),
      input(['report', p('none'), '--out', p('r')], /^results folder .*none does not exist$/),
      input(['report', file, '--out', p('r')], /afile\.txt is a file, not a results folder$/),
      input(['report', folder, '--out', p('r')], /afolder is not an iclit results folder/),
      proc(['report', results, '--out', '/proc/iclit-x']),
      input(['report', results, '--out', file], /^report folder .*afile\.txt is a file, not a folder$/),
      input(['report', results, '--out', dangling], DANGLING),
      input(['report', damaged, '--out', p('r')], new RegExp(`damaged/${DB_FILE}`)),
    ],
    export: [
      usage(['export', results, '--format', 'csv', '--bogus'], /^Unknown option '--bogus'/),
      usage(['export', '--format', 'csv'], /^expected one RESULTS_DIR, got 0/),
      usage(['export', results, results, '--format', 'csv'], /^unexpected argument/),
      usage(['export', results], /^--format is required/),
      usage(['export', results, '--format', 'xml'], /^--format must be one of csv, parquet, jsonl, got 'xml'$/),
      input(['export', p('none'), '--format', 'csv'], /^results folder .*none does not exist$/),
      input(['export', file, '--format', 'csv'], /afile\.txt is a file, not a results folder$/),
      input(['export', results, '--format', 'csv', '--out', folder], /^export file .*afolder is a folder; give a file name$/),
      proc(['export', results, '--format', 'csv', '--out', '/proc/iclit-x.csv']),
      input(['export', results, '--format', 'csv', '--out', join(file, 'x.csv')], /afile\.txt is a file, not a folder$/),
      input(['export', results, '--format', 'csv', '--out', dangling], DANGLING),
      input(['export', damaged, '--format', 'csv'], new RegExp(`damaged/${DB_FILE}`)),
    ],
    merge: [
      usage(['merge', results, '--out', p('m'), '--bogus'], /^Unknown option '--bogus'/),
      usage(['merge', results], /^--out is required/),
      usage(['merge', '--out', p('m')], /^give the results folders to merge/),
      input(['merge', p('none'), '--out', p('m')], /^results folder .*none does not exist$/),
      input(['merge', file, '--out', p('m')], /afile\.txt is a file, not a results folder$/),
      proc(['merge', results, '--out', '/proc/iclit-x']),
      input(['merge', results, '--out', file], /^merged folder .*afile\.txt is a file, not a folder$/),
      input(['merge', results, '--out', dangling], DANGLING),
      input(['merge', damaged, '--out', p('m')], new RegExp(`damaged/${DB_FILE}`)),
    ],
    activations: [
      usage(act('--out', p('a.st'), '--bogus'), /^Unknown option '--bogus'/),
      usage(['activations', ...ids, '--out', p('a.st')], /^--model is required/),
      usage(act(), /^--out is required/),
      usage(['activations', ...model, '--out', p('a.st')], /^give exactly one of --text or --ids/),
      usage(['activations', ...model, '--ids', '-1', '--out', p('a.st')], /^--ids must be comma-separated non-negative integers, got '-1'$/),
      usage(act('--layers', 'x', '--out', p('a.st')), /--layers/),
      usage(act('--positions', 'some', '--out', p('a.st')), /^--positions must be one of last, all/),
      usage(act('--threads', '-1', '--out', p('a.st')), /^--threads must be at least 1, got -1$/),
      usage(act('--threads', '0x10', '--out', p('a.st')), /^--threads must be a \(decimal\) number, got '0x10'$/),
      usage(act('--out', p('a.st'), 'stray'), /^unexpected argument 'stray'/),
      input(['activations', '--model', file, ...ids, '--out', p('a.st')], /afile\.txt is a file, not a model folder$/),
      input(['activations', '--model', p('none'), ...ids, '--out', p('a.st')], /^model folder .*none does not exist$/),
      input(['activations', '--model', broken, ...ids, '--out', p('a.st')], /model\.safetensors is not a valid safetensors file/),
      input(act('--adapter', file, '--out', p('a.st')), /afile\.txt is a file, not an adapter folder$/),
      input(act('--adapter', p('none'), '--out', p('a.st')), /^adapter folder .*none does not exist$/),
      input(act('--layers', '99', '--out', p('a.st')), /hidden state 99 is out of range/),
      input(['activations', ...model, '--ids', '1,400', '--out', p('a.st')], /token id 400 .* outside the vocabulary/),
      input(act('--out', folder), /^output file .*afolder is a folder; give a file name$/),
      proc(act('--out', '/proc/iclit-x/a.st')),
      input(act('--out', join(file, 'a.st')), /afile\.txt is a file, not a folder$/),
      input(act('--out', dangling), DANGLING),
    ],
    tune: [
      usage(tune('--out', p('ad'), '--bogus'), /^Unknown option '--bogus'/),
      usage(['tune', ...model, '--out', p('ad')], /^--data is required/),
      usage(tune(), /^--out is required/),
      usage(['tune', '--data', p('train.jsonl'), '--out', p('ad')], /^--model is required/),
      usage(tune('--out', p('ad'), '--lr', '-1'), /^--lr must be a positive number, got -1$/),
      usage(tune('--out', p('ad'), '--lr', '0'), /^--lr must be a positive number, got 0$/),
      usage(tune('--out', p('ad'), '--epochs', '-1'), /^--epochs must be at least 1, got -1$/),
      usage(tune('--out', p('ad'), '--dropout', '1'), /^--dropout must be at most 0\.99/),
      usage(tune('--out', p('ad'), '--targets', 'nope'), /^--targets: unknown module 'nope'/),
      usage(tune('--out', p('ad'), '--r', '100000'), /^--r 100000 is larger than q_proj's min\(in \d+, out \d+\) = \d+/),
      usage(tune('--out', p('ad'), '--init-adapter', folder, '--r', '4'), /^--r cannot be combined with --init-adapter/),
      input(['tune', '--model', file, '--data', p('train.jsonl'), '--out', p('ad')], /afile\.txt is a file, not a model folder$/),
      input(['tune', '--model', broken, '--data', p('train.jsonl'), '--out', p('ad')], /model\.safetensors is not a valid safetensors file/),
      input(tune('--out', p('ad'), '--init-adapter', p('none')), /^adapter folder .*none does not exist$/),
      input(['tune', ...model, '--data', folder, '--out', p('ad')], /afolder is a folder, not a data file$/),
      input(['tune', ...model, '--data', p('none.jsonl'), '--out', p('ad')], /^data file .*none\.jsonl does not exist$/),
      input(['tune', ...model, '--data', p('oov.jsonl'), '--out', p('ad')], /oov\.jsonl:2: token id 400 \(token 2\) is outside the model's vocabulary \(0\.\.399\)$/),
      input(['tune', ...model, '--data', p('notjson.jsonl'), '--out', p('ad')], /notjson\.jsonl:2: not valid JSON/),
      input(['tune', ...model, '--data', p('latin1.jsonl'), '--out', p('ad')], /latin1\.jsonl:1: not valid UTF-8/),
      proc(tune('--out', '/proc/iclit-x')),
      input(tune('--out', file), /^adapter folder .*afile\.txt is a file, not a folder$/),
      input(tune('--out', dangling), DANGLING),
    ],
    loss: [
      usage(['loss', ...model, ...ids, '--bogus'], /^Unknown option '--bogus'/),
      usage(['loss', ...ids], /^--model is required/),
      usage(['loss', ...model], /^give exactly one of --text or --ids/),
      usage(['loss', ...model, ...ids, '--threads', '-1'], /^--threads must be at least 1, got -1$/),
      usage(['loss', ...model, ...ids, '--dtype', 'float8'], /^--dtype must be one of float32, bfloat16/),
      usage(['loss', ...model, ...ids, 'stray'], /^unexpected argument 'stray'/),
      input(['loss', '--model', file, ...ids], /afile\.txt is a file, not a model folder$/),
      input(['loss', '--model', p('none'), ...ids], /^model folder .*none does not exist$/),
      input(['loss', '--model', broken, ...ids], /model\.safetensors is not a valid safetensors file/),
      input(['loss', ...model, ...ids, '--adapter', p('none')], /^adapter folder .*none does not exist$/),
      input(['loss', ...model, ...ids, '--adapter', folder], /afolder is not a PEFT adapter folder/),
      input(['loss', '--model', p('loop'), ...ids], /^model folder .*loop is a symbolic link loop \(it resolves to itself\)$/),
      input(['loss', '--model', p('oddtok'), '--text', 'a delight'], /oddtok\/tokenizer\.json: "model\.type" is "Mystery"; supported are BPE, WordPiece, Unigram and WordLevel$/),
      input(['loss', '--model', p('badjson'), ...ids], /badjson\/config\.json is not valid JSON/),
      input(['loss', '--model', p('dirweights'), ...ids], /dirweights\/model\.safetensors: is a folder, not a file$/),
    ],
    doctor: [
      usage(['doctor', '--bogus'], /^Unknown option '--bogus'/),
      usage(['doctor', 'extra'], /^doctor takes no arguments, got 'extra'/),
      usage(['doctor', '--batch', '-2'], /^--batch must be at least 1, got -2$/),
      usage(['doctor', '--dtype', 'fp16'], /^--dtype must be one of float32, bfloat16, got 'fp16'$/),
      input(['doctor', '--model', p('none')], /^1 problem\(s\) would stop a run: model folder .*none does not exist$/),
      input(['doctor', '--model', file], /^1 problem\(s\) would stop a run: .*afile\.txt is a file, not a model folder$/),
    ],
    embed: [
      usage(['embed', '--encoder', tiny.model, '--text', 'x', '--bogus'], /^Unknown option '--bogus'/),
      usage(['embed', '--text', 'x'], /^--encoder is required/),
      usage(['embed', '--encoder', tiny.model], /^give exactly one of --text \(repeatable\), --file or --ids-json/),
      usage(['embed', '--encoder', tiny.model, '--text', 'x', '--batch-size', '-2'], /^--batch-size must be at least 1, got -2$/),
      usage(['embed', '--encoder', tiny.model, '--text', 'x', '--out', p('e.st'), '--json'], /^give either --out or --json/),
      input(['embed', '--encoder', file, '--text', 'x'], /afile\.txt is a file, not an encoder folder$/),
      input(['embed', '--encoder', p('none'), '--text', 'x'], /^encoder folder .*none does not exist$/),
      input(['embed', '--encoder', tiny.model, '--file', folder], /afolder is a folder, not a text file$/),
      input(['embed', '--encoder', tiny.model, '--file', p('empty.txt')], /^text file .*empty\.txt is empty$/),
      input(['embed', '--encoder', tiny.model, '--file', p('latin1.tsv')], /latin1\.tsv:3: not valid UTF-8/),
      input(['embed', '--encoder', tiny.model, '--ids-json', p('ids.json')], /ids\.json is not valid JSON/),
      input(['embed', '--encoder', tiny.model, '--text', 'x', '--out', folder], /^output file .*afolder is a folder; give a file name$/),
      proc(['embed', '--encoder', tiny.model, '--text', 'x', '--out', '/proc/iclit-x/e.st']),
      input(['embed', '--encoder', tiny.model, '--text', 'x', '--out', dangling], DANGLING),
    ],
  };
}

const bin = join(repoRoot(), 'bin', 'iclit.js');

/** Runs the case (in this process, or spawned) and checks the exit code and the one line on stderr. */
async function expectFailure(c: Case): Promise<void> {
  const what = `iclit ${c.args.join(' ')}`;
  let r: { code: number | null; err: string };
  if (c.spawn) {
    const s = spawnSync(process.execPath, [bin, ...c.args], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(s.signal, null, `${what}: killed after 60 s (a hang)`);
    r = { code: s.status, err: s.stderr };
  } else r = await runCli(c.args);
  const lines = r.err.replace(/\n$/, '').split('\n');
  const last = lines[lines.length - 1];
  assert.equal(r.code, c.code, `${what}: exit ${r.code}, stderr: ${r.err}`);
  if (!c.progress) assert.equal(lines.length, 1, `${what}: one line on stderr, got ${r.err}`);
  for (const l of lines.slice(0, -1)) assert.doesNotMatch(l, /^iclit: |^\s+at /, `${what}: only progress before the error`);
  assert.match(last, /^iclit: /, what);
  assert.doesNotMatch(r.err, /internal error|\n\s+at |Error:/, what);
  assert.match(last.slice('iclit: '.length), c.says, what);
}

test('every command has its bad-argument cases here (a new command must add its own)', () => {
  const table = cases();
  for (const c of commands) assert.ok(table[c.name]?.length, `no bad-argument cases for iclit ${c.name}`);
  assert.deepEqual(Object.keys(table).filter((n) => !commands.some((c) => c.name === n)), [], 'cases for commands that do not exist');
});

for (const command of commands.map((c) => c.name)) {
  test(`iclit ${command}: usage mistakes exit 2, bad inputs exit 1, one line each`, { timeout: 120_000 }, async () => {
    for (const c of cases()[command] ?? []) await expectFailure(c);
    // a failed start leaves no folder behind (the study validates everything before creating it)
    if (command === 'run') assert.equal(existsSync(p('o')), false);
  });
}

test('an unknown command is a usage error, one line', async () => {
  await expectFailure({ args: ['frobnicate'], code: 2, says: /^unknown command 'frobnicate'/ });
});

test('negative values reach their flags: --layers -1 is the last hidden state in activations and run', async () => {
  const out = p('last.st');
  const a = await runCli(['activations', '--model', tiny.model, '--ids', '1,2,3', '--layers', '-1', '--out', out]);
  assert.equal(a.code, 0, a.err);
  assert.match(a.err, /wrote 1 hidden states/);
  const r = await runCli(['run', ...study, '--layers', '-1', '--out', p('last-run')]);
  assert.equal(r.code, 0, r.err);
  const csv = (await runCli(['export', p('last-run'), '--format', 'csv', '--out', join(p('exports'), 'new', 'last.csv')]));
  assert.equal(csv.code, 0, csv.err);
  assert.ok(existsSync(join(p('exports'), 'new', 'last.csv')), 'export creates the folder of --out');
});
