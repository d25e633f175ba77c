// `iclit doctor`: the text and --json reports agree with the machine (libtorch, threads, bf16 flags, BLAS, Chromium) and judge model folders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decoderWeightShapes, tinyConfig, writeRandomCheckpoint } from '../../io/index.js';
import { writeTinyStudy } from '../../experiments/testing.js';
import { cudaIsAvailable, torchVersion } from '../../torch/index.js';
import { repoRoot } from '../../util/paths.js';
import { makeTempDir, tempDir } from '../../util/testing.js';
import { studyMemory } from '../../models/index.js';
import { LORA_DEFAULTS } from '../../lora/index.js';
import { bf16Support } from './doctor-probe.js';
import type { DoctorReport } from './doctor.js';

const root = tempDir(test, 'iclit-doctor-');
const tiny = writeTinyStudy(makeTempDir('study-', root));

function doctor(...args: string[]) {
  return spawnSync(process.execPath, [join(repoRoot(), 'bin', 'iclit.js'), 'doctor', ...args], { encoding: 'utf8' });
}
function doctorJson(...args: string[]): { status: number | null; report: DoctorReport; stderr: string } {
  const r = doctor('--json', ...args);
  return { status: r.status, report: JSON.parse(r.stdout) as DoctorReport, stderr: r.stderr };
}

test('doctor --json: libtorch version, CUDA, threads in force, bf16 from /proc/cpuinfo, BLAS and Chromium match the machine', () => {
  const { status, report: r } = doctorJson('--threads', '1');
  assert.equal(status, 0, JSON.stringify(r.problems));
  assert.equal(r.libtorch.loaded, true);
  assert.equal(r.libtorch.version, torchVersion());
  assert.ok(r.libtorch.loadedFrom && existsSync(r.libtorch.loadedFrom), `libtorch_cpu mapped from ${r.libtorch.loadedFrom}`);
  assert.equal(r.threads.inForce, 1);
  assert.match(r.threads.policy, /^threads: 1 libtorch intra-op of \d+ cores \(set by --threads\); OMP_WAIT_POLICY=\w+ \(set by [^)]+\)/);
  const flags = /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))![1].split(/\s+/);
  assert.equal(r.cpu.bf16, flags.includes('avx512_bf16') || flags.includes('amx_bf16') ? 'native' : 'emulated');
  if (r.blas.library?.startsWith('/')) assert.ok(existsSync(r.blas.library), r.blas.library);
  assert.equal(r.chromium.found, existsSync(r.chromium.path));
  assert.equal(r.cuda.available, cudaIsAvailable());
  assert.ok(r.memory.total > 0 && r.memory.free > 0);
  assert.equal(r.model, undefined);
  assert.equal(r.notes.some((n) => /emulated through float32/.test(n)), r.cpu.bf16 === 'emulated');
});

test('doctor (text): one line per topic and "ready" when nothing stops a run', () => {
  const r = doctor();
  assert.equal(r.status, 0, r.stdout + r.stderr);
  for (const key of ['libtorch', 'binding', 'CUDA', 'threads', 'BLAS', 'bfloat16', 'Chromium', 'memory']) {
    assert.match(r.stdout, new RegExp(`^${key} +\\S`, 'm'), `a ${key} line`);
  }
  assert.match(r.stdout, new RegExp(`^libtorch +${torchVersion().replace(/\./g, '\\.')} loaded from `, 'm'));
  assert.match(r.stdout, /^threads +\d+ libtorch intra-op of \d+ cores \(set by iclit[^;]*; OMP_WAIT_POLICY=PASSIVE/m);
  assert.match(r.stdout, /\nready\n$/);
});

test('doctor --model: a loadable folder reports config, weights, tokenizer and a memory estimate that scales with the dtype', () => {
  const a = doctorJson('--model', tiny.model);
  assert.equal(a.status, 0, JSON.stringify(a.report.problems));
  const m = a.report.model!;
  assert.equal(m.loads, true);
  const params = [...decoderWeightShapes(tinyConfig({ vocabSize: 400, hiddenSize: 32 })).values()].reduce((s, sh) => s + sh.reduce((x, y) => x * y, 1), 0);
  assert.deepEqual(m.weights, { files: 1, stored: ['float32'], parameters: params, bytesOnDisk: params * 4 });
  assert.equal(m.tokenizer?.vocabSize, 400);
  assert.equal(m.tokenizer?.chatTemplate, false);
  assert.equal(m.memory?.weights, params * 4);
  const b = doctorJson('--model', tiny.model, '--dtype', 'bfloat16', '--batch', '4', '--tokens', '128');
  assert.equal(b.report.model!.memory!.weights, params * 2);
  assert.deepEqual([b.report.model!.memory!.batch, b.report.model!.memory!.tokens], [4, 128]);
  const text = doctor('--model', tiny.model).stdout;
  assert.match(text, /^model +.*tiny-llama: loads$/m);
  assert.match(text, /^ {2}memory +a study at float32, batch 1 × 256 tokens: weights .* ≈ .* \(estimate\)$/m);
});

test('doctor --model: folders that do not load are problems (exit 1) naming the file or key; unused weights are a warning', () => {
  const bad = writeRandomCheckpoint(makeTempDir('bad-', root), tinyConfig(), { seed: 1 });
  const cfg = JSON.parse(readFileSync(join(bad, 'config.json'), 'utf8'));
  writeFileSync(join(bad, 'config.json'), JSON.stringify({ ...cfg, tie_word_embeddings: 'yes' }));
  const r = doctorJson('--model', bad);
  assert.equal(r.status, 1);
  assert.equal(r.report.model!.loads, false);
  assert.ok(r.report.problems.some((p) => /config\.json: "tie_word_embeddings" must be true or false, got "yes"/.test(p)), r.report.problems.join('; '));
  assert.ok(r.report.problems.some((p) => /tokenizer\.json not found/.test(p)), 'the missing tokenizer is named too');
  const text = doctor('--model', bad).stdout;
  assert.match(text, /^problem: .*"tie_word_embeddings"/m);
  assert.match(text, /\n2 problem\(s\) found\n$/);

  const extra = writeTinyStudy(makeTempDir('extra-', root)).model;
  writeFileSync(join(extra, 'config.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(extra, 'config.json'), 'utf8')), num_hidden_layers: 1 }));
  const w = doctorJson('--model', extra);
  assert.equal(w.status, 0, JSON.stringify(w.report.problems));
  assert.match(w.report.model!.warnings[0], /9 weight\(s\) .* not used by its config\.json \(num_hidden_layers 1\): model\.layers\.1\./);

  const nan = writeTinyStudy(makeTempDir('nan-', root)).model;
  const bytes = readFileSync(join(nan, 'model.safetensors'));
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString());
  bytes.writeFloatLE(NaN, 8 + n + header['model.layers.0.mlp.down_proj.weight'].data_offsets[0]);
  writeFileSync(join(nan, 'model.safetensors'), bytes);
  const f = doctorJson('--model', nan);
  assert.equal(f.status, 1);
  assert.ok(f.report.problems.some((p) => /weight 'model\.layers\.0\.mlp\.down_proj\.weight' in .* holds 1 NaN/.test(p)), f.report.problems.join('; '));
  rmSync(nan, { recursive: true });
  assert.match(doctorJson('--model', nan).report.problems[0], /model folder .* does not exist$/);
});

test('bf16Support reads the CPU flags: AVX512_BF16 or AMX-BF16 is native, anything else emulated', () => {
  assert.deepEqual(bf16Support('model name\t: Xeon\nflags\t\t: fpu sse avx512f avx512_bf16 amx_tile amx_bf16\n'), { model: 'Xeon', bf16: 'native', flags: ['avx512f', 'avx512_bf16', 'amx_bf16', 'amx_tile'] });
  assert.equal(bf16Support('flags : fpu avx2 avx512f\n').bf16, 'emulated');
  assert.equal(bf16Support('flags : amx_bf16\n').bf16, 'native');
  assert.equal(bf16Support('').bf16, 'emulated');
});

test('doctor --model: the memory it states is the study\'s own estimate (src/models/study-memory) for the asked dtype, batch and tokens', () => {
  const c = tinyConfig({ vocabSize: 1000, hiddenSize: 64, intermediateSize: 128, numLayers: 4, numHeads: 4, numKvHeads: 2, headDim: 16 });
  const dir = writeRandomCheckpoint(makeTempDir('mem-', root), c, { seed: 3 });
  const r = doctorJson('--model', dir, '--batch', '4', '--tokens', '100');
  const want = studyMemory(c, 'float32', LORA_DEFAULTS, 4, 100);
  assert.deepEqual(r.report.model!.memory, { dtype: 'float32', batch: 4, tokens: 100, ...want });
  const params = [...decoderWeightShapes(c).values()].reduce((s, sh) => s + sh.reduce((x, y) => x * y, 1), 0);
  assert.equal(want.weights, params * 4);
});
