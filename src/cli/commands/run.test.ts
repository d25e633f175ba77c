// End-to-end tests of `iclit run`: results folder and manifest, resume, refusal/--force, YAML config, kill -9 and resume, fixtures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCli } from '../testing.js';
import { DB_FILE, MANIFEST_FILE, ResultsStore } from '../../results/index.js';
import { writeRandomCheckpoint, tinyConfig } from '../../io/index.js';
import { writeTinyStudy } from '../../experiments/testing.js';
import type { RepeatRecord } from '../../experiments/record.js';
import { missingShared, repoRoot, sharedPath, tempDir } from '../../util/testing.js';

/** main(argv) with stdout/stderr captured as text. */
async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await runCli(argv);
  return { ...r, out: r.out.toString() };
}

const root = tempDir(test, 'iclit-run-');
const tiny = writeTinyStudy(root);

function records(dir: string): RepeatRecord[] {
  const store = ResultsStore.open(dir, { readonly: true });
  try {
    return store.records();
  } finally {
    store.close();
  }
}

/** Records without wall-clock fields, for comparing runs. */
function comparable(rs: RepeatRecord[]): unknown[] {
  return rs.map(({ millis: _m, ...rest }) => rest);
}

function rows(dir: string): { key: string; created: string }[] {
  const db = new Database(join(dir, DB_FILE), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT experiment, condition, repeat, model, created_at FROM records ORDER BY repeat, condition').all() as Record<string, string>[]).map((r) => ({
      key: `${r.experiment}/${r.condition}/${r.repeat}/${r.model}`,
      created: r.created_at,
    }));
  } finally {
    db.close();
  }
}

const small = ['--repeats', '2', '--shots', '2', '--epochs', '2', '--seed', '3'];

test('iclit run writes records and a manifest, resumes without recomputing, refuses a changed setup unless --force', async () => {
  const out = join(root, 'r1');
  const args = ['run', 'wrong-label', '--model', tiny.model, '--data', tiny.sst2, ...small, '--out', out];
  const first = await run(args);
  assert.equal(first.code, 0, first.err);
  assert.match(first.err, /tiny-llama \[#+\.*\] \d\/2 repeats .*ETA/);
  assert.match(first.err, /wrong-label: 2 repeat\(s\) computed, 0 already done/);
  const rs = records(out);
  assert.equal(rs.length, 4);
  assert.deepEqual(rs.map((r) => `${r.condition}/${r.repeat}`), ['right-labels/0', 'right-labels/1', 'wrong-labels/0', 'wrong-labels/1']);
  const manifest = JSON.parse(readFileSync(join(out, MANIFEST_FILE), 'utf8'));
  assert.equal(manifest.config.preset, 'wrong-label');
  assert.equal(manifest.seed, 3);
  assert.equal(manifest.models[0].label, 'tiny-llama');
  assert.match(manifest.configHash, /^[0-9a-f]{64}$/);
  assert.match(manifest.iclitVersion, /^\d+\.\d+\.\d+/);
  assert.deepEqual(manifest.data.map((d: { role: string }) => d.role), ['data']);
  assert.ok(manifest.finishedAt);
  const before = rows(out);

  const again = await run(args);
  assert.equal(again.code, 0, again.err);
  assert.match(again.err, /0 repeat\(s\) computed, 2 already done/);
  assert.deepEqual(rows(out), before, 'nothing recomputed');

  // more repeats: only the new ones are computed (repeats are not part of the hashed setup)
  const more = await run(args.map((a, i) => (args[i - 1] === '--repeats' ? '3' : a))); // a flag is given once
  assert.equal(more.code, 0, more.err);
  assert.match(more.err, /1 repeat\(s\) computed, 2 already done/);
  assert.deepEqual(rows(out).filter((r) => !r.key.includes('/2/')), before);

  const changed = await run(['run', 'wrong-label', '--model', tiny.model, '--data', tiny.sst2, ...small.map((a, i) => (small[i - 1] === '--epochs' ? '3' : a)), '--out', out]);
  assert.equal(changed.code, 1);
  assert.match(changed.err, /^iclit: results folder .* was made with a different setup: config\.conditions\[0\]\.epochs \(2 → 3\).*--force/);
  const forced = await run(['run', 'wrong-label', '--model', tiny.model, '--data', tiny.sst2, ...small.map((a, i) => (small[i - 1] === '--epochs' ? '3' : a)), '--force', '--out', out]);
  assert.equal(forced.code, 0, forced.err);
  assert.match(forced.err, /2 repeat\(s\) computed/);
  assert.match(forced.err, /--force: the earlier setup's records, states and adapters were moved to .*superseded/);
  const after = records(out);
  assert.equal(after.length, 4, 'the third repeat of the earlier setup went with it');
  assert.ok(after.every((r) => r.extra.epochs === 3), 'forced run recomputed with the new setup');
});

test('iclit run: two models, a YAML config, and errors that name the key or flag', async () => {
  const other = writeTinyStudy(join(root, 'second'), { name: 'tiny-b', seed: 9 }).model;
  const cfg = join(root, 'study.yaml');
  writeFileSync(cfg, `preset: convergence\nmodels: [${tiny.model}, ${other}]\ndata: ${tiny.sst2}\nrepeats: 2\nshots: 2\nepochs: 1\nlayers: [0, 2]\nlora: {r: 2, alpha: 8}\n`);
  const out = join(root, 'r2');
  const res = await run(['run', cfg, '--out', out]);
  assert.equal(res.code, 0, res.err);
  const rs = records(out);
  assert.deepEqual([...new Set(rs.map((r) => r.model))].sort(), ['tiny-b', 'tiny-llama']);
  assert.equal(rs.length, 4);
  assert.ok(rs.every((r) => r.layers.join() === '0,2'));
  const byModel = (m: string): RepeatRecord[] => rs.filter((r) => r.model === m);
  assert.deepEqual(byModel('tiny-b').map((r) => r.prompts), byModel('tiny-llama').map((r) => r.prompts), 'both models see the same prompts');

  writeFileSync(cfg, 'preset: convergence\nrepeat: 2\n');
  const bad = await run(['run', cfg, '--model', tiny.model, '--data', tiny.sst2, '--out', join(root, 'r3')]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /study\.yaml: key 'repeat' is not a setting/);
  const cases: [string[], RegExp, number][] = [
    [['run', 'nope', '--model', tiny.model, '--data', tiny.sst2, '--out', join(root, 'x')], /unknown preset 'nope'/, 2],
    [['run', 'convergence', '--model', tiny.model, '--out', join(root, 'x')], /--data is required/, 2],
    [['run', 'cross-task', '--model', tiny.model, '--data', tiny.sst2, '--out', join(root, 'x')], /needs --demo-data/, 2],
    [['run', 'demo-similarity', '--model', tiny.model, '--data', tiny.sst2, '--out', join(root, 'x')], /needs --encoder/, 2],
    [['run', 'convergence', '--model', tiny.model, '--data', tiny.sst2, '--repeats', '0', '--out', join(root, 'x')], /--repeats must be an integer ≥ 1, got "0"/, 2],
    [['run', 'translation', '--model', tiny.model, '--data', tiny.sst2, '--out', join(root, 'x')], /holds sentiment data .* translation data was asked for/, 1],
    [['run', 'shots', '--model', tiny.model, '--data', tiny.sst2, '--shots', '3', '--out', join(root, 'x')], /sets its own shots/, 2],
    [['run', 'layers', '--model', tiny.model, '--data', tiny.sst2, '--layers', '0,1', '--out', join(root, 'x')], /measures every layer/, 2],
  ];
  for (const [argv, re, code] of cases) {
    const r = await run(argv);
    assert.equal(r.code, code, `${argv.join(' ')}: ${r.err}`);
    assert.match(r.err, re);
  }
});

test('kill -9 in the middle of a run, then the same command: finished repeats kept, none computed twice, same results', async () => {
  const bin = join(repoRoot(), 'bin', 'iclit.js');
  const args = ['run', 'wrong-label', '--model', tiny.model, '--data', tiny.sst2, '--repeats', '6', '--batch', '1', '--shots', '2', '--epochs', '2', '--seed', '8'];
  const ref = join(root, 'ref');
  const whole = await run([...args, '--out', ref]);
  assert.equal(whole.code, 0, whole.err);

  const out = join(root, 'killed');
  const child = spawn(process.execPath, [bin, ...args, '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  let saved = 0;
  for (let i = 0; i < 3000 && saved === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
    if (existsSync(join(out, DB_FILE))) {
      try {
        saved = rows(out).length;
      } catch {
        // the database is being created
      }
    }
  }
  child.kill('SIGKILL');
  const signal = await exited;
  assert.equal(signal, 'SIGKILL', `the run finished before it could be killed: ${stderr}`);
  const kept = rows(out);
  assert.ok(kept.length >= 2 && kept.length < 12, `killed with ${kept.length} records saved`);
  assert.equal(kept.length % 2, 0, 'only whole repeat groups are saved');

  const resumed = spawnSync(process.execPath, [bin, ...args, '--out', out], { encoding: 'utf8' });
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`${6 - kept.length / 2} repeat\\(s\\) computed, ${kept.length / 2} already done`));
  const final = rows(out);
  assert.equal(final.length, 12);
  for (const k of kept) assert.deepEqual(final.find((f) => f.key === k.key), k, `${k.key} kept as it was`);
  assert.deepEqual(comparable(records(out)), comparable(records(ref)), 'equal to the uninterrupted run');
});

test('fixture tier: LLaMA-2 tokenizer (vocab 32000, hidden 16), real SST-2 / WMT16 / paper instructions, MiniLM tokenizer + tiny-bert', async (t) => {
  const need = ['data/tokenizers/llama2', 'data/sst2/dev.tsv', 'data/wmt16-encs/newstest2016.en', 'data/paper-instructions/sentiment.txt', 'data/tokenizers/all-MiniLM-L6-v2', 'fixtures/tiny-bert'];
  for (const rel of need) if (!sharedPath(rel)) return t.skip(missingShared(rel));
  const model = join(root, 'llama2-tiny');
  mkdirSync(model, { recursive: true });
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) {
    const src = join(sharedPath('data/tokenizers/llama2')!, f);
    if (existsSync(src)) copyFileSync(src, join(model, f));
  }
  writeRandomCheckpoint(model, tinyConfig({ vocabSize: 32000, hiddenSize: 16, intermediateSize: 32, numHeads: 2, numKvHeads: 1, headDim: 8, maxPositionEmbeddings: 2048 }), { seed: 3, std: 0.1 });
  const encoder = join(root, 'encoder');
  cpSync(sharedPath('fixtures/tiny-bert')!, encoder, { recursive: true });
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt']) copyFileSync(join(sharedPath('data/tokenizers/all-MiniLM-L6-v2')!, f), join(encoder, f));
  const sst2 = sharedPath('data/sst2/dev.tsv')!;
  const wmt = join(sharedPath('data/wmt16-encs')!, 'newstest2016');
  const common = ['--model', model, '--repeats', '2', '--shots', '2', '--epochs', '1', '--seed', '1'];
  const presets: [string, string[]][] = [
    ['cross-task', ['--data', sst2, '--demo-data', wmt, '--instructions', sharedPath('data/paper-instructions/sentiment.txt')!]],
    ['translation', ['--data', wmt]],
    ['accuracy', ['--data', sst2]],
    ['demo-similarity', ['--data', sst2, '--encoder', encoder, '--bins', '4']],
  ];
  for (const [preset, extra] of presets) {
    const out = join(root, `fx-${preset}`);
    const r = await run(['run', preset, ...common, ...extra, '--out', out]);
    assert.equal(r.code, 0, `${preset}: ${r.err}`);
    const rs = records(out);
    assert.ok(rs.length >= 2, preset);
    for (const x of rs) {
      assert.equal(x.layers.length, 3);
      assert.ok(x.tokenCounts.anchor > 3 && x.prompts.anchor.length > 0);
      if (x.extra.empty !== true) assert.ok(x.simAnchorIcl.every((v) => v >= -1 && v <= 1), `${preset}: ${x.simAnchorIcl}`);
    }
    if (preset === 'translation') {
      // footnote 5's form: the instruction before every demonstration and again before B (k = 2: three times)
      const instruction = rs[0].prompts.anchor.split('\n')[0];
      assert.equal(rs[0].prompts.icl.split(`${instruction}\nEnglish: `).length - 1, 3);
      assert.match(rs[0].prompts.icl, /\nCzech: .+\n\n[^\n]+\nEnglish: [^\n]+\nCzech:$/s);
    }
    if (preset === 'accuracy') assert.ok(rs.every((x) => x.accuracy && x.accuracy.n === 100 && x.accuracy.icl >= 0 && x.accuracy.icl <= 1));
    if (preset === 'demo-similarity') {
      assert.equal(new Set(rs.map((x) => x.condition)).size, 4);
      assert.ok(existsSync(join(out, '.iclit-cache')), 'embeddings are cached in the results folder');
    }
  }
});

test('iclit run --dry-run prints the estimate (FLOPs, time, memory) and writes nothing; a run prints it before its first progress line', async () => {
  const out = join(root, 'dry');
  const args = ['run', 'convergence', '--model', tiny.model, '--data', tiny.sst2, ...small, '--out', out];
  const dry = await run([...args, '--dry-run']);
  assert.equal(dry.code, 0, dry.err);
  assert.match(dry.err, /^iclit: estimate: 2 repeat\(s\) × 1 condition\(s\) of convergence on 1 model\(s\): [\d.]+ [GT]FLOP \(\d+ forward reads, 4 training steps\), ≈ \S+ on cpu in float32 at batch \d+ .*peak memory ≈ [\d.]+ GiB\n$/);
  assert.equal(existsSync(out), false);
  const real = await run(args);
  assert.equal(real.code, 0, real.err);
  const lines = real.err.split('\n');
  assert.match(lines[0], /^iclit: estimate: /);
  assert.match(lines[1], /tiny-llama \[\.+\] 0\/2 repeats · 0\.0% of the work/);
});

test("a default convergence run uses the paper's prompts: iclit export shows 'Sentiment: Positive' / 'Sentiment: Negative'; the manifest records the linear lr schedule; --labels and --lr-schedule change them", async () => {
  const out = join(root, 'paper-prompts');
  const res = await run(['run', 'convergence', '--model', tiny.model, '--data', tiny.sst2, '--repeats', '4', '--epochs', '1', '--out', out]);
  assert.equal(res.code, 0, res.err);
  const exp = await runCli(['export', out, '--format', 'jsonl']);
  assert.equal(exp.code, 0, exp.err);
  const lines = exp.out.toString().trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
  const words = new Set(lines.flatMap((l) => [...l.prompt_icl.matchAll(/Sentiment: (\w+)/g)].map((m) => m[1])));
  assert.ok([...words].every((w) => w === 'Positive' || w === 'Negative') && words.size > 0, [...words].join(','));
  for (const l of lines) assert.match(l.prompt_icl, /\nSentiment: (Positive|Negative)\n\n/);
  const manifest = JSON.parse(readFileSync(join(out, MANIFEST_FILE), 'utf8'));
  assert.equal(manifest.config.lrSchedule, 'linear');
  assert.deepEqual(manifest.config.methods.labels, ['Negative', 'Positive']);
  const other = join(root, 'paper-prompts-lower');
  const res2 = await run(['run', 'convergence', '--model', tiny.model, '--data', tiny.sst2, '--repeats', '1', '--epochs', '1', '--labels', 'negative,positive', '--lr-schedule', 'constant', '--out', other]);
  assert.equal(res2.code, 0, res2.err);
  const r = records(other)[0];
  assert.match(r.prompts.icl, /\nSentiment: (negative|positive)\n\n/);
  assert.equal(JSON.parse(readFileSync(join(other, MANIFEST_FILE), 'utf8')).config.lrSchedule, 'constant');
  const bad = await run(['run', 'convergence', '--model', tiny.model, '--data', tiny.sst2, '--labels', 'only', '--out', join(root, 'never')]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--labels must be distinct non-empty label words/);
  assert.ok(!existsSync(join(root, 'never')));
});
