// openStudy end to end: the paper's defaults, results recomputed independently from exports and saved adapters, setups never mixed, nothing written before validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { deriveSeed } from '../data/index.js';
import { writeTinyStudy } from '../experiments/testing.js';
import { tinyConfig, writeRandomCheckpoint } from '../io/index.js';
import { loadAdapter } from '../lora/index.js';
import { LlamaModel } from '../models/index.js';
import { DB_FILE, ResultsStore, SUPERSEDED_DIR, exportTable, readRecordStates } from '../results/index.js';
import { cosine } from '../stats/index.js';
import { Tokenizer } from '../tokenizers/index.js';
import { IclitError } from '../util/errors.js';
import { mergeSettings, type PartialSettings } from './settings.js';
import { openStudy } from './study.js';
import { QUICK_STUDY, storedResults } from './testing.js';
import { tempDir } from '../util/testing.js';

const root = tempDir(test, 'iclit-open-');
const tiny = writeTinyStudy(root);

const quick = QUICK_STUDY;

async function runStudy(preset: string, out: string, over: PartialSettings = {}, force = false): Promise<void> {
  const study = await openStudy(mergeSettings({ preset, models: [tiny.model], data: tiny.sst2, ...quick }, over), out, { force });
  try {
    await study.run();
  } finally {
    study.close();
  }
}

const stored = storedResults;

test('convergence without --shots/--epochs records the paper\'s defaults: one demonstration, 10 epochs', async () => {
  const out = join(root, 'defaults');
  const study = await openStudy(mergeSettings({ preset: 'convergence', models: [tiny.model], data: tiny.sst2, repeats: 1, device: 'cpu' }, {}), out);
  try {
    assert.equal(study.compute.device, 'cpu');
    await study.run();
  } finally {
    study.close();
  }
  const { records, manifest } = stored(out);
  assert.deepEqual(records.map((r) => [r.extra.shots, r.extra.epochs, r.prompts.tuning.length]), [[1, 10, 1]]);
  const config = manifest.config as { lr: number; lora: unknown; conditions: { shots: number; epochs: number }[]; methods: { tuneLoss: string } };
  assert.deepEqual([config.conditions[0].shots, config.conditions[0].epochs, config.lr, config.lora, config.methods.tuneLoss], [1, 10, 1e-4, { r: 8, alpha: 32, dropout: 0.05, targets: ['q_proj', 'v_proj'] }, 'all']);
  assert.ok((manifest.compute as { device: string }).device === 'cpu');
});

test('on a checkpoint the tests never saw, exported similarities (sim_update_last too) equal a recomputation from the exported prompts and the saved adapters (≤ 1e-4)', async () => {
  // A model no other test uses: its own shape (3 layers, hidden 48, GQA 6/2 heads) and seed, with the tiny study's tokenizer.
  const model = join(root, 'unseen');
  mkdirSync(model, { recursive: true });
  writeTinyStudy(join(root, 'unseen-src'), { name: 'unseen' });
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) if (existsSync(join(root, 'unseen-src', 'unseen', f))) writeFileSync(join(model, f), readFileSync(join(root, 'unseen-src', 'unseen', f)));
  writeRandomCheckpoint(model, tinyConfig({ vocabSize: 400, hiddenSize: 48, intermediateSize: 80, numLayers: 3, numHeads: 6, numKvHeads: 2, headDim: 8, maxPositionEmbeddings: 1024 }), { seed: 2026, std: 0.08 });
  const out = join(root, 'recompute');
  const study = await openStudy(mergeSettings({ preset: 'wrong-label', models: [model], data: tiny.sst2, ...quick, saveAdapters: true }, {}), out);
  try {
    await study.run();
  } finally {
    study.close();
  }
  const { records } = stored(out);
  const rows = exportTable(records).rows;
  assert.equal(rows.length, 4);
  const m = LlamaModel.load(model);
  const tok = await Tokenizer.load(model);
  try {
    for (const row of rows) {
      const layers = JSON.parse(String(row.layers)) as number[];
      const read = (text: string): Float32Array[] => {
        const h = m.hiddenStates([tok.encode(text)], layers);
        return layers.map((l) => {
          const v = h.get(l)!.toFloat32Array();
          h.get(l)!.dispose();
          return v;
        });
      };
      const anchor = read(String(row.prompt_anchor));
      const icl = read(String(row.prompt_icl));
      const adapter = loadAdapter(join(out, String(row.adapter)), m);
      const it = adapter.apply(() => read(String(row.prompt_anchor)));
      adapter.dispose();
      layers.forEach((l, i) => {
        const near = (col: string, want: number) => assert.ok(Math.abs(Number(row[`${col}_${l}`]) - want) <= 1e-4, `${row.condition}/${row.repeat} ${col}_${l}: ${row[`${col}_${l}`]} vs ${want}`);
        near('sim_anchor_icl', cosine(anchor[i], icl[i]));
        near('sim_anchor_it', cosine(anchor[i], it[i]));
        near('sim_icl_it', cosine(icl[i], it[i]));
        if (i > 0) near('sim_update', cosine(icl[i].map((v, j) => v - anchor[i][j]), it[i].map((v, j) => v - anchor[i][j])));
      });
      const last = layers.length - 1;
      assert.ok(Math.abs(Number(row.sim_update_last) - cosine(icl[last].map((v, j) => v - anchor[last][j]), it[last].map((v, j) => v - anchor[last][j]))) <= 1e-4);
    }
    // the stored states are the ones the similarities were computed from
    const r0 = records[0];
    const s = readRecordStates(out, r0)!;
    assert.deepEqual(r0.simIclIt, s.icl.map((v, l) => cosine(v, s.it[l])));
  } finally {
    m.dispose();
  }
});

test('--force after a changed seed leaves only the new setup\'s records (the earlier ones moved to superseded/); a report cannot mix them', async () => {
  const out = join(root, 'force');
  await runStudy('convergence', out, { repeats: 2, seed: 0 });
  await assert.rejects(runStudy('convergence', out, { repeats: 2, seed: 1 }), /different setup: seed \(0 → 1\).*--force/);
  await runStudy('convergence', out, { repeats: 1, seed: 1 }, true);
  const { records, manifest } = stored(out);
  assert.equal(manifest.seed, 1);
  assert.deepEqual(records.map((r) => [r.repeat, r.seed, r.configHash]), [[0, deriveSeed(1, 'repeat', 0), manifest.configHash]], 'all records are seed 1');
  const moved = readdirSync(join(out, SUPERSEDED_DIR));
  assert.equal(moved.length, 1);
  const old = ResultsStore.open(join(out, SUPERSEDED_DIR, moved[0]), { readonly: true });
  assert.deepEqual(old.records().map((r) => r.seed), [deriveSeed(0, 'repeat', 0), deriveSeed(0, 'repeat', 1)]);
  old.close();
});

test('a start that fails validation writes nothing; the corrected command then starts without --force', async () => {
  const cases: [PartialSettings, RegExp][] = [
    [{ layers: [99] }, /hidden state 99 is out of range for a model with 3 hidden states/],
    [{ shots: 45 }, /cannot draw k=45 demonstrations from 39 candidates/],
    [{ models: [tiny.sst2] }, /sst2\.tsv is a file, not a model folder/],
    [{ data: root }, /is a folder, not a data file/],
    [{ methods: { templates: { sentiment: '{instruction}\nReview: {review}\nSentiment: {label}' } } }, /slot \{review\} has no value/],
  ];
  for (const [over, re] of cases) {
    const out = join(root, 'bad-start');
    await assert.rejects(runStudy('convergence', out, over), (e: unknown) => e instanceof IclitError && re.test(e.message), String(re));
    assert.equal(existsSync(out), false, `nothing written for ${JSON.stringify(over)}`);
  }
  // a review longer than the model's context is named by its line, before the folder exists
  const long = join(root, 'long.tsv');
  writeFileSync(long, readFileSync(tiny.sst2, 'utf8') + `${'a dull mess '.repeat(600)}.\t0\n`);
  await assert.rejects(runStudy('convergence', join(root, 'bad-start'), { data: long, repeats: 30 }), /longer than the model's max_position_embeddings 1024; it holds .*long\.tsv:42 \((demonstration|inference example)\)/);
  assert.equal(existsSync(join(root, 'bad-start')), false);
  // a truncated checkpoint and a tokenizer larger than the model are refused before the folder exists
  const broken = writeTinyStudy(join(root, 'broken'), { name: 'broken' }).model;
  truncateSync(join(broken, 'model.safetensors'), 200);
  await assert.rejects(runStudy('convergence', join(root, 'bad-start'), { models: [broken] }), IclitError);
  const small = writeTinyStudy(join(root, 'small'), { name: 'small' }).model;
  writeRandomCheckpoint(small, tinyConfig({ vocabSize: 96 }), { seed: 1 });
  await assert.rejects(runStudy('convergence', join(root, 'bad-start'), { models: [small] }), /the tokenizer has 400 ids but config\.json's vocab_size is 96/);
  assert.equal(existsSync(join(root, 'bad-start')), false);
  await runStudy('convergence', join(root, 'bad-start'), { layers: [0, 2] });
  assert.equal(stored(join(root, 'bad-start')).records.length, 2);
});

test('a damaged record is named and recomputed by the next run; the rest is kept', async () => {
  const out = join(root, 'damaged');
  await runStudy('convergence', out);
  const before = stored(out).records;
  const db = new Database(join(out, DB_FILE));
  db.prepare("UPDATE records SET record = substr(record, 1, 40) WHERE repeat = 1").run();
  db.close();
  assert.throws(() => stored(out), /row \d+ \(convergence\/tiny-llama\/right-labels\/repeat 1\) is damaged/);
  const notes: string[] = [];
  const study = await openStudy(mergeSettings({ preset: 'convergence', models: [tiny.model], data: tiny.sst2, ...quick }, {}), out, { onNote: (l) => notes.push(l) });
  try {
    const s = await study.run();
    assert.deepEqual([s.computed, s.skipped], [1, 1]);
  } finally {
    study.close();
  }
  assert.match(notes.join('\n'), /row \d+ \(convergence\/tiny-llama\/right-labels\/repeat 1\) is damaged .*recomputing it/);
  const after = stored(out).records;
  assert.deepEqual(after[0], before[0], 'repeat 0 kept as it was');
  // repeat 1 is recomputed alone (its first run shared a batch with repeat 0; LoRA dropout masks are drawn per
  // adapter, so the batch does not change them): equal up to float32 rounding, which
  // the update cosine (of small differences of states) magnifies to ~1e-5: the study's stated tolerance is 1e-4
  const strip = ({ millis: _m, simAnchorIcl: _a, simAnchorIt: _b, simIclIt: _c, simUpdate: _d, tuneLoss: _e, outputs: _o, attention: _t, ...r }: (typeof after)[number]) => r;
  assert.deepEqual(strip(after[1]), strip(before[1]));
  const near = (v: number, w: number, what: string): void => assert.ok(Math.abs(v - w) < 1e-4 || (Number.isNaN(v) && Number.isNaN(w)), `${what}: ${v} vs ${w}`);
  for (const k of ['simAnchorIcl', 'simAnchorIt', 'simIclIt', 'simUpdate'] as const) after[1][k].forEach((v, l) => near(v, before[1][k][l], `${k}[${l}]`));
  // the attention change and the divergences are of small differences too: the same tolerance
  for (const k of ['anchorIcl', 'anchorIt', 'iclIt', 'change', 'demoShare'] as const) after[1].attention![k].forEach((v, l) => near(v, before[1].attention![k][l], `attention.${k}[${l}]`));
  for (const k of ['klIclIt', 'jsIclIt', 'klIclAnchor', 'klItAnchor'] as const) near(after[1].outputs![k], before[1].outputs![k], `outputs.${k}`);
  for (const k of ['anchor', 'icl', 'it'] as const) near(after[1].outputs!.labelMass![k], before[1].outputs!.labelMass![k], `outputs.labelMass.${k}`);
});
