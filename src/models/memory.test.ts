// Loading keeps one copy of the weights: same-dtype loads are memory-mapped views, converting loads copy once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tinyConfig, writeRandomCheckpoint } from '../io/index.js';
import { largeTests, makeTempDir, removeTempDir } from '../util/testing.js';
import { LlamaModel } from './llama.js';

const mb = (bytes: number) => bytes / 2 ** 20;
const rss = () => process.memoryUsage().rss;
/** Anonymous resident memory (copies), leaving out file pages that a mapped view pulls in when read (e.g. the finite check at load). */
const rssAnon = () => Number(/RssAnon:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) * 1024;

test('a bfloat16 checkpoint loaded for bfloat16 compute is mapped, not copied; a float32 load copies once', () => {
  const config = tinyConfig({ vocabSize: 32000, hiddenSize: 512, intermediateSize: 1376, numLayers: 8, numHeads: 8, numKvHeads: 8, headDim: 64 });
  const dir = writeRandomCheckpoint(makeTempDir('iclit-mem-'), config, { dtype: 'bfloat16', seed: 1 });
  const fileMb = mb(statSync(join(dir, 'model.safetensors')).size);
  try {
    const before = rssAnon();
    const mapped = LlamaModel.load(dir, { dtype: 'bfloat16' });
    const grewMapped = mb(rssAnon() - before);
    assert.ok(grewMapped < 0.1 * fileMb, `bf16 load grew RSS by ${grewMapped.toFixed(1)} MB for a ${fileMb.toFixed(0)} MB file`);
    mapped.hiddenStates([[1, 2, 3]], [-1]);
    mapped.dispose();

    const before32 = rss();
    const copied = LlamaModel.load(dir, { dtype: 'float32' });
    const grew32 = mb(rss() - before32);
    // float32 is twice the bf16 bytes: one converted copy, and never the bf16 bytes held as well
    assert.ok(grew32 < 2.3 * fileMb, `float32 load grew RSS by ${grew32.toFixed(1)} MB (one copy would be ${(2 * fileMb).toFixed(0)} MB)`);
    copied.dispose();
  } finally {
    removeTempDir(dir);
  }
});

test('opt-in large: a 7B-shaped bfloat16 checkpoint (3 shards) loads and runs in under 16 GB of RSS', { skip: !largeTests && 'set ICLIT_TEST_LARGE=1 (writes a 13.5 GB checkpoint)', timeout: 3_600_000 }, (t) => {
  const config = tinyConfig({ vocabSize: 32000, hiddenSize: 4096, intermediateSize: 11008, numLayers: 32, numHeads: 32, numKvHeads: 32, headDim: 128, maxPositionEmbeddings: 4096 });
  const dir = writeRandomCheckpoint(makeTempDir('iclit-7b-'), config, { dtype: 'bfloat16', seed: 1, shards: 3 });
  try {
    // A fresh process, so that the peak RSS is the load and forward pass alone (not the checkpoint writing).
    // VmHWM, not resourceUsage().maxRSS: getrusage keeps the high-water mark of the spawning (test) process.
    const script = `import { readFileSync } from 'node:fs';
      import { LlamaModel } from ${JSON.stringify(new URL('./llama.js', import.meta.url).href)};
      const m = LlamaModel.load(${JSON.stringify(dir)}, { dtype: 'bfloat16' });
      const h = m.hiddenStates([[1, 450, 4996, 17354, 1701]], [-1]).get(32);
      const hwm = /^VmHWM:\\s+(\\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
      console.log(JSON.stringify({ maxRssKb: hwm ? Number(hwm[1]) : process.resourceUsage().maxRSS, finite: h.isFinite().logicalNot().sum().item() === 0 }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { maxRssKb: number; finite: boolean };
    const peakGb = out.maxRssKb / 2 ** 20;
    assert.ok(out.finite, 'hidden states are finite');
    t.diagnostic(`peak RSS of load + forward: ${peakGb.toFixed(2)} GB`);
    assert.ok(peakGb < 16, `peak RSS ${peakGb.toFixed(1)} GB`);
  } finally {
    removeTempDir(dir);
  }
});
