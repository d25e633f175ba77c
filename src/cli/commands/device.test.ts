// --device on tune, activations, loss and embed: cpu computes as before, auto falls back with a note, cuda is refused in one line here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SafetensorsFile, tinyConfig, writeRandomCheckpoint } from '../../io/index.js';
import { cudaIsAvailable, tidy } from '../../torch/index.js';
import { missingShared, sharedPath } from '../../util/testing.js';
import { runCli } from '../testing.js';

test('--device cpu and --device auto (no CUDA here) give the same activations as the default; auto says it fell back', { skip: cudaIsAvailable() && 'this host has CUDA' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iclit-device-'));
  try {
    const model = writeRandomCheckpoint(join(dir, 'model'), tinyConfig(), { seed: 5 });
    const read = (f: string) => tidy(() => SafetensorsFile.open(f).tensor('hidden.2').toFloat32Array());
    const outs: Float32Array[] = [];
    for (const extra of [[], ['--device', 'cpu'], ['--device', 'auto']]) {
      const out = join(dir, `a${outs.length}.safetensors`);
      const r = await runCli(['activations', '--model', model, '--ids', '1,4,9', '--layers=-1', '--out', out, ...extra]);
      assert.equal(r.code, 0, r.err);
      if (extra[1] === 'auto') assert.match(r.err, /--device auto: .* runs on the CPU/);
      outs.push(read(out));
    }
    assert.deepEqual(outs[1], outs[0]);
    assert.deepEqual(outs[2], outs[0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--device cuda on a CPU-only libtorch: every model command refuses in one line (exit 1); a bad value is a usage error (exit 2)', { skip: cudaIsAvailable() && 'this host has CUDA' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iclit-device-'));
  try {
    const model = writeRandomCheckpoint(join(dir, 'model'), tinyConfig(), { seed: 5 });
    const data = join(dir, 'train.jsonl');
    writeFileSync(data, JSON.stringify({ input_ids: [1, 2, 3, 4] }) + '\n');
    const encoder = sharedPath('fixtures/tiny-bert');
    const commands: string[][] = [
      ['tune', '--model', model, '--data', data, '--out', join(dir, 'adapter'), '--epochs', '1'],
      ['activations', '--model', model, '--ids', '1,2', '--out', join(dir, 'x.safetensors')],
      ['loss', '--model', model, '--ids', '1,2,3'],
      ...(encoder ? [['embed', '--encoder', encoder, '--ids-json', join(dir, 'ids.json')]] : []),
    ];
    writeFileSync(join(dir, 'ids.json'), JSON.stringify({ input_ids: [[101, 7, 102]] }));
    for (const argv of commands) {
      const r = await runCli([...argv, '--device', 'cuda']);
      assert.equal(r.code, 1, `${argv[0]}: ${r.err}`);
      assert.match(r.err, /^iclit: --device cuda: this libtorch .* has no CUDA .*use --device cpu\n$/, argv[0]);
      const bad = await runCli([...argv, '--device', 'gpu']);
      assert.equal(bad.code, 2, `${argv[0]} --device gpu`);
      assert.match(bad.err, /--device must be cpu, cuda, cuda:N or auto, got 'gpu'/);
    }
    if (!encoder) console.log(`# embed not checked: ${missingShared('fixtures/tiny-bert')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
