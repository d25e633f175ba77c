// Tests of the results database: NaN-safe round trip, atomic groups (also under SIGKILL), resume keys, folder checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { ResultsStore, unitKey, DB_FILE, MANIFEST_FILE, SUPERSEDED_DIR } from './store.js';
import { readRecordStates } from './artifacts.js';
import { buildManifest } from './manifest.js';
import { readAdapterConfig, readAdapterWeights } from '../lora/index.js';
import { decodeJson, encodeJson } from './codec.js';
import { SAMPLE_CONFIG_HASH, sampleGroups, sampleRecord } from './testing.js';
import { IclitError } from '../util/errors.js';
import { makeTempDir, removeTempDir } from '../util/testing.js';

function tmp(): string {
  return makeTempDir('iclit-results-');
}

test('encodeJson/decodeJson keep NaN, ±Infinity and -0 that plain JSON loses', () => {
  const v = { a: [NaN, Infinity, -Infinity, -0, 0, 1.5], b: { c: NaN }, s: 'NaN' };
  assert.equal(JSON.stringify(v.a), '[null,null,null,0,0,1.5]'); // why the encoding exists
  const back = decodeJson(encodeJson(v)) as typeof v;
  assert.deepEqual(back, v); // deepStrictEqual uses Object.is: NaN equals NaN, -0 differs from 0
  assert.ok(Object.is(back.a[3], -0));
  assert.equal(back.s, 'NaN');
});

test('records round-trip through the database exactly, NaN included, and survive reopening', () => {
  const dir = tmp();
  try {
    const withNaN = sampleRecord({ simIclIt: [NaN, -0, Infinity], tuneLoss: NaN, millis: NaN });
    const bare = sampleRecord({ condition: 'bare', accuracy: undefined, lossDecrease: undefined, tuneLoss: undefined, extra: {} });
    delete bare.accuracy;
    delete bare.lossDecrease;
    delete bare.tuneLoss;
    let store = ResultsStore.open(dir, { create: true });
    store.saveRecords([withNaN, bare]);
    store.close();
    store = ResultsStore.open(dir, { readonly: true });
    const got = store.records();
    store.close();
    assert.equal(got.length, 2);
    // order: experiment, model, condition, repeat → 'bare' < 'correct-labels'
    assert.deepEqual(got[0], bare);
    assert.deepEqual(got[1], withNaN);
    assert.ok(Number.isNaN(got[1].simAnchorIcl[2]));
    assert.ok(Number.isNaN(got[1].tuneLoss));
    assert.ok(!('accuracy' in got[0]), 'absent optional fields stay absent');
  } finally {
    removeTempDir(dir);
  }
});

test('the database is WAL, keyed uniquely, with flattened SQL columns (NaN → NULL there, JSON keeps it)', () => {
  const dir = tmp();
  try {
    const store = ResultsStore.open(dir, { create: true });
    store.saveRecords([sampleRecord({ tuneLoss: NaN }), sampleRecord({ condition: 'b', tuneLoss: 0.25, seed: 2 ** 40 })]);
    // saving the same unit again replaces it (idempotent), it does not duplicate
    store.saveRecords([sampleRecord({ condition: 'b', tuneLoss: 0.5, seed: 7 })]);
    store.close();
    const db = new Database(join(dir, DB_FILE), { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    const rows = db.prepare('SELECT condition, seed, tune_loss, millis, accuracy_icl, config_hash, created_at FROM records ORDER BY condition').all() as
      { condition: string; seed: number; tune_loss: number | null; millis: number; accuracy_icl: number; config_hash: string; created_at: string }[];
    db.close();
    assert.equal(rows.length, 2);
    assert.deepEqual(rows.map((r) => [r.condition, r.seed, r.tune_loss, r.millis, r.accuracy_icl, r.config_hash]), [
      ['b', 7, 0.5, 1234.5, 0.75, SAMPLE_CONFIG_HASH],
      ['correct-labels', 1000, null, 1234.5, 0.75, SAMPLE_CONFIG_HASH],
    ]);
    assert.match(rows[0].created_at, /^\d{4}-\d\d-\d\dT/);
  } finally {
    removeTempDir(dir);
  }
});

test('records() sorts by experiment, model, condition, repeat and filters', () => {
  const dir = tmp();
  try {
    const store = ResultsStore.open(dir, { create: true });
    for (const g of sampleGroups(['k=5', 'k=1'], 3, { experiment: 'shots' }).reverse()) store.saveRecords(g);
    store.saveRecords([sampleRecord({ experiment: 'convergence', model: 'b' }), sampleRecord({ experiment: 'convergence', model: 'a' })]);
    const keys = store.records().map((r) => `${r.experiment}|${r.model}|${r.condition}|${r.repeat}`);
    assert.deepEqual(keys, [
      'convergence|a|correct-labels|0', 'convergence|b|correct-labels|0',
      'shots|tiny-llama|k=1|0', 'shots|tiny-llama|k=1|1', 'shots|tiny-llama|k=1|2',
      'shots|tiny-llama|k=5|0', 'shots|tiny-llama|k=5|1', 'shots|tiny-llama|k=5|2',
    ]);
    assert.equal(store.records({ experiment: 'shots', condition: 'k=5' }).length, 3);
    assert.equal(store.records({ model: 'a' }).length, 1);
    assert.deepEqual(store.experiments(), ['convergence', 'shots']);
    assert.deepEqual(store.summary().find((s) => s.condition === 'k=1'), { experiment: 'shots', model: 'tiny-llama', condition: 'k=1', n: 3 });
    store.close();
  } finally {
    removeTempDir(dir);
  }
});

test('resume: doneKeys and the sink agree on what is finished', () => {
  const dir = tmp();
  try {
    const store = ResultsStore.open(dir, { create: true });
    const sink = store.sink({ withModel: false });
    const [g0, g1] = sampleGroups(['a', 'b'], 2);
    sink.save(g0.map((record) => ({ record })));
    const k = { experiment: 'convergence', condition: 'a', repeat: 0, model: 'tiny-llama' };
    assert.equal(sink.isDone(k), true);
    assert.equal(sink.isDone({ ...k, repeat: 1 }), false);
    assert.equal(sink.isDone({ ...k, model: 'other' }), false);
    assert.deepEqual(store.doneKeys(), new Set([unitKey(k), unitKey({ ...k, condition: 'b' })]));
    sink.save(g1.map((record) => ({ record })));
    assert.equal(store.doneKeys().size, 4);
    assert.equal(store.sink({ withModel: false }).isDone({ ...k, repeat: 1 }), true, 'a new sink sees the stored records');
    store.close();
  } finally {
    removeTempDir(dir);
  }
});

test('a group that fails midway leaves nothing of itself (one transaction)', () => {
  const dir = tmp();
  try {
    const store = ResultsStore.open(dir, { create: true });
    const [g0, g1] = sampleGroups(['a', 'b', 'c'], 2);
    store.saveRecords(g0);
    // the second record is invalid: the first was already inserted when it is checked
    const broken = [g1[0], { ...g1[1], simAnchorIt: [1] }, g1[2]];
    assert.throws(() => store.saveRecords(broken), (e: unknown) => e instanceof IclitError && /convergence\/tiny-llama\/b\/repeat 1: simAnchorIt must be 3 numbers/.test(e.message));
    assert.equal(store.doneKeys().has(unitKey({ experiment: 'convergence', condition: 'a', repeat: 1, model: 'tiny-llama' })), false);
    assert.equal(store.records().length, 3);
    // a duplicate unit within one group is also refused as a whole
    assert.throws(() => store.saveRecords([g1[0], g1[0]]), /appears twice/);
    assert.equal(store.records().length, 3);
    store.saveRecords(g1);
    assert.equal(store.records().length, 6);
    store.close();
  } finally {
    removeTempDir(dir);
  }
});

test('a process killed (SIGKILL) in the middle of saving a group leaves no part of it', () => {
  const dir = tmp();
  try {
    const store = ResultsStore.open(dir, { create: true });
    store.saveRecords([sampleRecord({ condition: 'first' })]);
    store.close();
    const storeUrl = pathToFileURL(join(import.meta.dirname, 'store.js')).href;
    const testingUrl = pathToFileURL(join(import.meta.dirname, 'testing.js')).href;
    // The third record's extra has a getter that kills the process while the group is being encoded, after
    // the first two rows were inserted inside the open transaction.
    const script = `
      const { ResultsStore } = await import(${JSON.stringify(storeUrl)});
      const { sampleRecord } = await import(${JSON.stringify(testingUrl)});
      const s = ResultsStore.open(${JSON.stringify(dir)});
      const killer = sampleRecord({ condition: 'z', repeat: 1 });
      killer.extra = { get boom() { process.kill(process.pid, 'SIGKILL'); return 1; } };
      s.saveRecords([sampleRecord({ condition: 'x', repeat: 1 }), sampleRecord({ condition: 'y', repeat: 1 }), killer]);
      console.log('not killed');`;
    const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(res.signal, 'SIGKILL', `child should die by SIGKILL; stdout ${res.stdout} stderr ${res.stderr}`);
    const after = ResultsStore.open(dir, { readonly: true });
    assert.deepEqual(after.records().map((r) => r.condition), ['first']);
    after.close();
  } finally {
    removeTempDir(dir);
  }
});

test('open: clear errors for folders that are not results folders', () => {
  const dir = tmp();
  try {
    const missing = join(dir, 'nope');
    assert.throws(() => ResultsStore.open(missing), (e: unknown) => e instanceof IclitError && e.message === `results folder ${missing} does not exist`);
    assert.throws(() => ResultsStore.open(dir), /is not an iclit results folder \(no results\.sqlite in it\)/);
    writeFileSync(join(dir, 'notes.txt'), 'hello');
    assert.throws(() => ResultsStore.open(dir, { create: true }), /is not empty and not an iclit results folder/);
    assert.throws(() => ResultsStore.open(join(dir, 'notes.txt')), /is a file, not a results folder/);
    writeFileSync(join(dir, DB_FILE), 'this is not sqlite at all, just text that is long enough to be read');
    assert.throws(() => ResultsStore.open(dir, { readonly: true }), (e: unknown) => e instanceof IclitError && /cannot (open|read) .*results\.sqlite: file is not a database|not an iclit results database/.test(e.message));
    rmSync(join(dir, DB_FILE));
    const other = new Database(join(dir, DB_FILE));
    other.exec('CREATE TABLE t (x)');
    other.close();
    assert.throws(() => ResultsStore.open(dir), /is not an iclit results database \(application_id 0\)/);
    // create makes missing parent folders too
    const nested = join(dir, 'a', 'b');
    ResultsStore.open(nested, { create: true }).close();
    assert.ok(existsSync(join(nested, DB_FILE)));
  } finally {
    removeTempDir(dir);
  }
});

test('read-only stores refuse writes; readers work while a writer holds the database open', () => {
  const dir = tmp();
  try {
    const writer = ResultsStore.open(dir, { create: true });
    writer.saveRecords([sampleRecord()]);
    const reader = ResultsStore.open(dir, { readonly: true });
    assert.equal(reader.records().length, 1);
    writer.saveRecords([sampleRecord({ repeat: 1 })]);
    assert.equal(reader.records().length, 2);
    assert.throws(() => reader.saveRecords([sampleRecord({ repeat: 2 })]), /open read-only/);
    reader.close();
    writer.close();
  } finally {
    removeTempDir(dir);
  }
});

/** A manifest whose config hashes to `hash`'s setup: built from a config, so the hash is real. */
function manifestFor(dir: string, config: Record<string, unknown>) {
  writeFileSync(join(dir, '..', 'data.txt'), 'x');
  return buildManifest({ config: config as never, models: [], data: [], seed: 0 });
}

test('a damaged record is named with its file and row, counts as not done, and is replaced when recomputed', () => {
  const dir = tmp();
  try {
    const store = ResultsStore.open(dir, { create: true });
    store.saveRecords(sampleGroups(['a', 'b'], 1)[0]);
    store.close();
    const db = new Database(join(dir, DB_FILE));
    db.prepare("UPDATE records SET record = '{\"experiment\": \"convergence\", oops' WHERE condition = 'b'").run();
    const rowid = (db.prepare("SELECT rowid FROM records WHERE condition = 'b'").get() as { rowid: number }).rowid;
    db.close();
    const again = ResultsStore.open(dir, { create: true });
    assert.throws(() => again.records(), (e: unknown) => e instanceof IclitError && e.message.includes(`${join(dir, DB_FILE)}: row ${rowid} (convergence/tiny-llama/b/repeat 0) is damaged (not valid JSON`) && /run the same `iclit run` again/.test(e.message));
    const seen: string[] = [];
    const sink = again.sink({ withModel: false, onDamaged: (d) => seen.push(`${d.rowid} ${d.unit}`) });
    assert.deepEqual(seen, [`${rowid} convergence/tiny-llama/b/repeat 0`]);
    assert.equal(sink.isDone({ experiment: 'convergence', condition: 'b', repeat: 0, model: 'tiny-llama' }), false, 'damaged = not done');
    assert.equal(sink.isDone({ experiment: 'convergence', condition: 'a', repeat: 0, model: 'tiny-llama' }), true);
    sink.save([{ record: sampleRecord({ condition: 'b' }) }]);
    assert.deepEqual(again.records().map((r) => r.condition), ['a', 'b']);
    assert.deepEqual(again.damaged(), []);
    // a record whose JSON is valid but not a record (a field of the wrong type) is damaged too
    const db2 = new Database(join(dir, DB_FILE));
    db2.prepare(`UPDATE records SET record = json_set(record, '$.simIclIt', 'x') WHERE condition = 'a'`).run();
    db2.close();
    assert.match(again.damaged()[0].problem, /simIclIt must be 3 numbers/);
    again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('records of another setup than the manifest are refused by name; --force moves the earlier setup to superseded/', () => {
  const root = tmp();
  const dir = join(root, 'res');
  try {
    const store = ResultsStore.open(dir, { create: true });
    const m0 = manifestFor(dir, { lr: 1 });
    assert.equal(store.beginRun(m0).action, 'new');
    assert.throws(() => store.saveRecords([sampleRecord()]), /was computed under config c0ffee.*holds/);
    store.saveRecords([sampleRecord({ configHash: m0.configHash }), sampleRecord({ repeat: 1, configHash: m0.configHash })]);
    // a record slipped in under another hash (as a mixed folder would hold) is refused on reading, named
    const db = new Database(join(dir, DB_FILE));
    db.prepare(`UPDATE records SET record = json_set(record, '$.configHash', ?), config_hash = ? WHERE repeat = 1`).run(SAMPLE_CONFIG_HASH, SAMPLE_CONFIG_HASH);
    db.close();
    assert.throws(() => store.records(), /1 record\(s\) were computed under another setup than its manifest \(convergence\/tiny-llama\/correct-labels\/repeat 1\); the folder mixes setups/);
    assert.equal(store.sink({ withModel: false }).isDone({ experiment: 'convergence', condition: 'correct-labels', repeat: 1, model: 'tiny-llama' }), false);
    // a changed setup is refused without force, and replaces everything with it
    const m1 = manifestFor(dir, { lr: 2 });
    assert.throws(() => store.beginRun(m1), /different setup: config\.lr \(1 → 2\)/);
    const { action, supersededTo } = store.beginRun(m1, { force: true });
    assert.equal(action, 'replace');
    assert.ok(supersededTo && supersededTo.startsWith(join(dir, SUPERSEDED_DIR)));
    assert.ok(existsSync(join(supersededTo, DB_FILE)) && existsSync(join(supersededTo, MANIFEST_FILE)));
    assert.deepEqual(store.records(), [], 'no record of the earlier setup stays under the new manifest');
    assert.equal(store.manifest()!.configHash, m1.configHash);
    const old = ResultsStore.open(supersededTo, { readonly: true });
    assert.equal(old.manifest()!.configHash, m0.configHash);
    old.close();
    store.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('saveResults writes each unit\'s states (safetensors) and adapter (PEFT folder) before its record, and they read back', () => {
  const dir = tmp();
  try {
    const store = ResultsStore.open(dir, { create: true });
    const record = sampleRecord({ layers: [0, 2, 4] });
    const row = (l: number, k: number) => Float32Array.from({ length: 5 }, (_, j) => l * 10 + j + k / 10);
    const states = { layers: [0, 2, 4], anchor: [0, 2, 4].map((l) => row(l, 0)), icl: [0, 2, 4].map((l) => row(l, 1)), it: [0, 2, 4].map((l) => row(l, 2)) };
    const A = Float32Array.from({ length: 2 * 3 }, (_, i) => i / 7);
    const adapter = { config: { r: 2, alpha: 4, dropout: 0.05, targets: ['q_proj'] }, tensors: new Map([['base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight', { shape: [2, 3], data: A }], ['base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight', { shape: [3, 2], data: A }]]) };
    store.sink({ withModel: false, baseModel: () => '/models/tiny' }).save([{ record, states, adapter }]);
    const [got] = store.records();
    assert.equal(got.states, 'states/convergence/correct-labels/repeat-0.safetensors');
    assert.equal(got.adapter, 'adapters/convergence/correct-labels/repeat-0');
    assert.deepEqual(readRecordStates(dir, got), states);
    const cfg = readAdapterConfig(join(dir, got.adapter!));
    assert.deepEqual([cfg.r, cfg.alpha, cfg.targets], [2, 4, ['q_proj']]);
    const w = readAdapterWeights(join(dir, got.adapter!));
    assert.deepEqual(Array.from(w.get('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight')!.toFloat32Array()), Array.from(A));
    for (const t of w.values()) t.dispose();
    // with several models the model label is a path level
    store.sink({ withModel: true }).save([{ record: sampleRecord({ repeat: 1, model: 'm/odd' }), states }]);
    assert.equal(store.records({ model: 'm/odd' })[0].states, 'states/m%2fodd/convergence/correct-labels/repeat-1.safetensors');
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
