// Tests of the run manifest: canonical config hash, path fingerprints (sampled weights), resume/mismatch/--force.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { buildManifest, canonicalJson, checkManifest, configHash, fingerprintPath, manifestDifferences, type Manifest } from './manifest.js';
import { ResultsStore, MANIFEST_FILE } from './store.js';
import { sampleRecord } from './testing.js';
import { IclitError } from '../util/errors.js';
import { makeTempDir, removeTempDir } from '../util/testing.js';

function tmp(): string {
  return makeTempDir('iclit-manifest-');
}

/** A small model folder: config, tokenizer, one safetensors file. */
function modelFolder(root: string, name: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ hidden_size: 8, num_hidden_layers: 2 }));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ model: { vocab: { a: 0, b: 1 } } }));
  const header = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  writeFileSync(join(dir, 'model.safetensors'), Buffer.concat([len, header, Buffer.from(new Float32Array([1, 2]).buffer)]));
  return dir;
}

test('canonicalJson sorts keys at every level, so the config hash ignores key order', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } }), '{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}');
  assert.equal(configHash({ x: 1, y: { a: 1, b: 2 } }), configHash({ y: { b: 2, a: 1 }, x: 1 }));
  assert.notEqual(configHash({ x: 1 }), configHash({ x: 2 }));
  assert.equal(configHash({ x: 1 }), createHash('sha256').update('{"x":1}').digest('hex'));
});

test('fingerprintPath: a file is the sha256 of its bytes; a folder depends on names, sizes and contents, not its location', () => {
  const root = tmp();
  try {
    const file = join(root, 'train.tsv');
    writeFileSync(file, 'sentence\tlabel\nfine, really\t1\n');
    assert.equal(fingerprintPath(file), createHash('sha256').update(readFileSync(file)).digest('hex'));

    const dir = modelFolder(root, 'm');
    const fp = fingerprintPath(dir);
    assert.match(fp, /^[0-9a-f]{64}$/);
    assert.equal(fingerprintPath(dir), fp, 'stable');
    writeFileSync(join(dir, '.cache-note'), 'dot files are ignored');
    assert.equal(fingerprintPath(dir), fp);
    renameSync(dir, join(root, 'moved'));
    assert.equal(fingerprintPath(join(root, 'moved')), fp, 'a moved folder keeps its fingerprint');
    writeFileSync(join(root, 'moved', 'config.json'), JSON.stringify({ hidden_size: 16, num_hidden_layers: 2 }));
    assert.notEqual(fingerprintPath(join(root, 'moved')), fp, 'a changed config changes it');
    const dir2 = modelFolder(root, 'm2');
    writeFileSync(join(dir2, 'extra.txt'), '');
    assert.notEqual(fingerprintPath(dir2), fp, 'an added file changes it');

    assert.throws(() => fingerprintPath(join(root, 'absent')), (e: unknown) => e instanceof IclitError && /cannot fingerprint .*absent: no such file or folder/.test(e.message));
    mkdirSync(join(root, 'empty'));
    assert.throws(() => fingerprintPath(join(root, 'empty')), /the folder is empty/);
  } finally {
    removeTempDir(root);
  }
});

test('fingerprintPath samples large weight files: header, head and tail count, the middle does not', () => {
  const root = tmp();
  try {
    const dir = join(root, 'big');
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), '{}');
    const path = join(dir, 'model.safetensors');
    const header = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    const size = 65 * 1024 * 1024 + 123; // just over the 64 MiB full-hash limit; sparse, so cheap to write
    const fd = openSync(path, 'w');
    writeSync(fd, Buffer.concat([len, header]), 0, 8 + header.length, 0);
    ftruncateSync(fd, size);
    closeSync(fd);
    const poke = (file: string, pos: number, byte: number) => {
      const f = openSync(file, 'r+');
      writeSync(f, Buffer.from([byte]), 0, 1, pos);
      closeSync(f);
    };
    const fp = fingerprintPath(dir);
    poke(path, Math.floor(size / 2), 7);
    assert.equal(fingerprintPath(dir), fp, 'the middle of a large weight file is not read (documented limitation)');
    poke(path, size - 10, 7);
    const fpTail = fingerprintPath(dir);
    assert.notEqual(fpTail, fp, 'the last MiB is hashed');
    poke(path, 8 + header.length + 100, 9);
    assert.notEqual(fingerprintPath(dir), fpTail, 'the first MiB is hashed');
    // the same bytes under a non-weight name are hashed whole: then the middle counts
    const txt = join(root, 'big.txt');
    renameSync(path, txt);
    const fpTxt = fingerprintPath(txt);
    assert.equal(fpTxt, createHash('sha256').update(readFileSync(txt)).digest('hex'));
    poke(txt, Math.floor(size / 2), 8);
    assert.notEqual(fingerprintPath(txt), fpTxt);
  } finally {
    removeTempDir(root);
  }
});

function manifest(over: Partial<Manifest> = {}): Manifest {
  return {
    iclitVersion: '0.1.0',
    createdAt: '2026-01-01T00:00:00.000Z',
    config: { train: { lr: 0.001, epochs: 3 }, repeats: 30 },
    configHash: configHash({ train: { lr: 0.001, epochs: 3 }, repeats: 30 }),
    models: [{ label: 'tiny', path: '/m/tiny', fingerprint: 'aaa' }],
    data: [{ role: 'train', path: '/d/train.tsv', fingerprint: 'ddd' }],
    seed: 42,
    ...over,
  };
}

test('checkManifest: new, resume, and a mismatch that names every differing key', () => {
  const old = manifest();
  assert.equal(checkManifest(undefined, old), 'new');
  // times, versions and paths do not matter; hashes do
  assert.equal(checkManifest(old, manifest({ createdAt: '2027-01-01T00:00:00Z', iclitVersion: '9.9.9', models: [{ label: 'tiny', path: '/elsewhere', fingerprint: 'aaa' }] })), 'resume');

  const cfg = { train: { lr: 0.01, epochs: 3 }, repeats: 30, extraKey: true };
  const wanted = manifest({ config: cfg, configHash: configHash(cfg), models: [{ label: 'tiny', path: '/m/tiny', fingerprint: 'bbb' }], seed: 7 });
  assert.deepEqual(manifestDifferences(old, wanted), [
    'config.extraKey ((absent) → true)',
    'config.train.lr (0.001 → 0.01)',
    "model 'tiny' fingerprint (/m/tiny → /m/tiny)",
    'seed (42 → 7)',
  ]);
  assert.throws(() => checkManifest(old, wanted, { dir: 'runs/a' }), (e: unknown) => {
    assert.ok(e instanceof IclitError);
    assert.match(e.message, /^results folder runs\/a was made with a different setup: /);
    assert.match(e.message, /config\.train\.lr \(0\.001 → 0\.01\)/);
    assert.match(e.message, /model 'tiny' fingerprint/);
    assert.match(e.message, /--force/);
    return true;
  });
  const dataChanged = manifest({ data: [{ role: 'train', path: '/d/train.tsv', fingerprint: 'eee' }, { role: 'eval', path: '/d/dev.tsv', fingerprint: 'fff' }] });
  assert.throws(() => checkManifest(old, dataChanged), /data 'train' fingerprint.*data 'eval' \(new: \/d\/dev\.tsv\)/);
  assert.equal(checkManifest(old, wanted, { force: true }), 'replace');
});

test('a results folder resumes with an equal manifest, refuses a different one, and --force moves the earlier records aside', () => {
  const root = tmp();
  try {
    const model = modelFolder(root, 'tiny');
    const data = join(root, 'train.tsv');
    writeFileSync(data, 'a\t1\n');
    const input = { config: { lr: 0.001, repeats: 2 }, models: [{ label: 'tiny', path: model }], data: [{ role: 'train', path: data }], seed: 1 };
    const first = buildManifest(input);
    assert.equal(first.models[0].fingerprint, fingerprintPath(model));
    assert.equal(first.data[0].fingerprint, createHash('sha256').update('a\t1\n').digest('hex'));

    const dir = join(root, 'run');
    let store = ResultsStore.open(dir, { create: true });
    assert.equal(store.manifest(), undefined);
    assert.equal(store.beginRun(first).action, 'new');
    store.saveRecords([sampleRecord({ configHash: first.configHash })]);
    store.close();
    assert.deepEqual(JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')), first);

    store = ResultsStore.open(dir);
    assert.equal(store.beginRun(buildManifest(input)).action, 'resume');
    assert.equal(store.manifest()?.createdAt, first.createdAt, 'resume keeps the original manifest');

    writeFileSync(join(model, 'config.json'), '{"hidden_size": 9}');
    const changed = buildManifest({ ...input, config: { lr: 0.002, repeats: 2 } });
    assert.throws(() => store.beginRun(changed), /config\.lr \(0\.001 → 0\.002\); model 'tiny' fingerprint/);
    assert.equal(store.manifest()?.configHash, first.configHash, 'a refused run changes nothing');

    assert.equal(store.beginRun(changed, { force: true }).action, 'replace');
    assert.equal(store.manifest()?.configHash, changed.configHash);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')), changed);
    assert.equal(store.records().length, 0, 'records made before --force are not under the new manifest');
    assert.equal(store.manifestHistory().length, 1, 'the new database starts with the new manifest');

    store.markFinished(12.5, '2026-02-02T00:00:00.000Z');
    assert.equal(store.manifest()?.finishedAt, '2026-02-02T00:00:00.000Z');
    assert.equal(store.manifest()?.wallSeconds, 12.5);
    assert.equal(JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')).wallSeconds, 12.5);
    assert.ok(!existsSync(join(dir, `${MANIFEST_FILE}.tmp-${process.pid}`)));
    store.close();

    assert.throws(() => buildManifest({ ...input, models: [{ label: 'x', path: model }, { label: 'x', path: model }] }), /model label 'x' is used twice/);
  } finally {
    removeTempDir(root);
  }
});
