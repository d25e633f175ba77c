// Unit tier: LoRA initialisation, batched adapters, PEFT folders (round trip, malformed folders refused).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tinyConfig, writeRandomCheckpoint, writeSafetensors } from '../io/index.js';
import { LlamaModel } from '../models/index.js';
import { noGrad, tensor, tidy, randn, manualSeed } from '../torch/index.js';
import { assertClose, maxAbsDiff, tempDir, makeTempDir } from '../util/testing.js';
import { IclitError } from '../util/errors.js';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, LoraLinear, adapterWeights, applyLora, loadAdapter, peftKey, saveAdapter, setAdapterWeights, type LoraConfig } from './index.js';

/** Every folder this file writes lives here and is removed when the file's tests end. */
const root = tempDir(test, 'iclit-lora-');

const config: LoraConfig = { r: 4, alpha: 8, dropout: 0, targets: ['q_proj', 'v_proj'] };
const ids = [1, 5, 9, 40, 3, 77, 12, 8];

function tinyModel(): { dir: string; model: LlamaModel } {
  const dir = writeRandomCheckpoint(makeTempDir('lora-', root), tinyConfig(), { seed: 3 });
  return { dir, model: LlamaModel.load(dir) };
}

/** Gives every adapter non-zero, distinct B so that LoRA changes the output. */
function randomizeB(lora: ReturnType<typeof applyLora>, seed: number): void {
  manualSeed(seed);
  for (const [k, p] of lora.params) if (k.endsWith('lora_B.weight')) tidy(() => p.copy_(randn(p.shape).mul(0.1)));
}

function last(model: LlamaModel, batch: number[][]): Float32Array {
  return tidy(() => model.hiddenStates(batch, [-1]).get(model.config.numLayers)!.toFloat32Array());
}

/** True when no linear of the model is wrapped by LoRA (the model is its base). */
function isBase(model: LlamaModel): boolean {
  return [...model.linears.values()].every((l) => !(l instanceof LoraLinear));
}

test('applyLora: targets q/v only, A ~ U(±1/√in) seeded, B zero, so the output is unchanged; the model is the base outside apply', () => {
  const { model } = tinyModel();
  const before = last(model, [ids]);
  const lora = applyLora(model, config, { seed: 5 });
  assert.ok(isBase(model), 'making a set leaves the model untouched');
  assert.deepEqual(lora.modules, ['model.layers.0.self_attn.q_proj', 'model.layers.0.self_attn.v_proj', 'model.layers.1.self_attn.q_proj', 'model.layers.1.self_attn.v_proj']);
  const A = lora.params.get(peftKey('model.layers.0.self_attn.q_proj', 'A'))!;
  assert.deepEqual(A.shape, [1, 4, 32]);
  assert.deepEqual(lora.params.get(peftKey('model.layers.0.self_attn.v_proj', 'B'))!.shape, [1, 16, 4]);
  const a = A.toFloat32Array();
  const bound = 1 / Math.sqrt(32);
  assert.ok(a.every((v) => Math.abs(v) <= bound) && Math.max(...a.map(Math.abs)) > 0.8 * bound, 'A within ±1/√in and spread');
  assert.equal(maxAbsDiff(lora.apply(() => last(model, [ids])), before), 0, 'B = 0 leaves the model unchanged');
  lora.dispose();
  const again = applyLora(model, config, { seed: 5 });
  assert.deepEqual(again.params.get(peftKey('model.layers.0.self_attn.q_proj', 'A'))!.toFloat32Array(), a, 'same seed, same A');
  randomizeB(again, 1);
  assert.ok(maxAbsDiff(again.apply(() => last(model, [ids])), before) > 1e-4, 'non-zero B changes the output');
  assert.ok(isBase(model), 'apply restores the base linears');
  assert.equal(maxAbsDiff(last(model, [ids]), before), 0);
  again.dispose();
  assert.throws(() => again.apply(() => 0), /after dispose/);
  assert.throws(() => applyLora(model, { ...config, targets: ['c_attn'] }), /c_attn/);
  model.dispose();
});

test('batched adapters: row b of a batch uses adapter b only, exactly as that adapter alone', () => {
  const { model } = tinyModel();
  const lora = applyLora(model, { ...config, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] }, { adapters: 3, seed: 10 });
  randomizeB(lora, 2);
  const batch = [ids, ids.slice(0, 5), [7, 7, 7, 2, 90, 1]];
  const together = lora.apply(() => noGrad(() => model.forward(batch, { hiddenStates: [-1], positions: 'last' }).hidden.get(2)!.toFloat32Array()));
  const C = 32;
  const singles = [0, 1, 2].map((b) => adapterWeights(lora, b));
  lora.dispose();
  for (let b = 0; b < 3; b++) {
    const one = applyLora(model, { ...config, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] });
    setAdapterWeights(one, singles[b]);
    assertClose(one.apply(() => last(model, [batch[b]])), together.slice(b * C, (b + 1) * C), 1e-5, 0, `adapter ${b}`);
    one.dispose();
  }
  // mode.adapter: the whole batch through one adapter of the set.
  const again = applyLora(model, { ...config, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] }, { adapters: 3 });
  for (let b = 0; b < 3; b++) setAdapterWeights(again, singles[b], b);
  assertClose(again.apply(() => last(model, [batch[2]]), { adapter: 2 }), together.slice(2 * C, 3 * C), 1e-5, 0, 'adapter 2 alone');
  assert.throws(() => again.apply(() => 0, { adapter: 3 }), /out of range/);
  model.dispose();
});

test('two adapter sets alive at once, applied to one model in turn, give the same outputs as each alone', () => {
  const { model } = tinyModel();
  const base = last(model, [ids]);
  // each alone: made, applied, freed before the other exists
  const alone = [11, 12].map((seed) => {
    const set = applyLora(model, { ...config, targets: ['q_proj', 'v_proj', 'down_proj'] }, { adapters: 2, seed });
    randomizeB(set, seed);
    const out = set.apply(() => last(model, [ids, ids.slice(0, 6)]));
    set.dispose();
    return out;
  });
  assert.ok(maxAbsDiff(alone[0], alone[1]) > 1e-4, 'the two sets differ');
  // both alive, applied in turn (and again in the other order)
  const [s1, s2] = [11, 12].map((seed) => {
    const set = applyLora(model, { ...config, targets: ['q_proj', 'v_proj', 'down_proj'] }, { adapters: 2, seed });
    randomizeB(set, seed);
    return set;
  });
  assert.equal(maxAbsDiff(s1.apply(() => last(model, [ids, ids.slice(0, 6)])), alone[0]), 0, 'set 1 with set 2 alive');
  assert.equal(maxAbsDiff(s2.apply(() => last(model, [ids, ids.slice(0, 6)])), alone[1]), 0, 'set 2 after set 1');
  assert.equal(maxAbsDiff(s1.apply(() => last(model, [ids, ids.slice(0, 6)])), alone[0]), 0, 'set 1 after set 2');
  assert.equal(maxAbsDiff(last(model, [ids]), base.slice(0, base.length)), 0, 'the model between calls is the base');
  assert.throws(() => s1.apply(() => s2.apply(() => 0)), /one at a time/, 'sets do not nest');
  assert.ok(isBase(model), 'a refused nesting leaves the base linears');
  s1.dispose();
  s2.dispose();
  model.dispose();
});

test('saveAdapter → loadAdapter gives identical hidden states; one adapter of a batched set saves alone', () => {
  const { model } = tinyModel();
  const lora = applyLora(model, config, { adapters: 2, seed: 1 });
  randomizeB(lora, 3);
  const out = makeTempDir('adapter-', root);
  saveAdapter(out, lora, { index: 1, baseModel: 'tiny' });
  const cfg = JSON.parse(readFileSync(join(out, ADAPTER_CONFIG), 'utf8'));
  assert.equal(cfg.peft_type, 'LORA');
  assert.equal(cfg.task_type, 'CAUSAL_LM');
  assert.equal(cfg.r, 4);
  assert.equal(cfg.lora_alpha, 8);
  assert.equal(cfg.bias, 'none');
  assert.deepEqual(cfg.target_modules, ['q_proj', 'v_proj']);
  const want = lora.apply(() => noGrad(() => model.forward([ids, ids], { hiddenStates: [0, 1, 2], positions: 'all' }).hidden));
  const want1 = [0, 1, 2].map((i) => tidy(() => want.get(i)!.select(0, 1).toFloat32Array()));
  lora.dispose();
  const loaded = loadAdapter(out, model);
  assert.equal(loaded.count, 1);
  assert.deepEqual(loaded.params.get(peftKey('model.layers.1.self_attn.q_proj', 'A'))!.shape, [1, 4, 32]);
  const got = loaded.apply(() => noGrad(() => model.forward([ids], { hiddenStates: [0, 1, 2], positions: 'all' }).hidden));
  // The saved adapter runs alone (one matmul) where it ran as one of a batched set (bmm): same weights, so the
  // states agree to float32 rounding of a different summation order.
  for (let i = 0; i <= 2; i++) assert.ok(maxAbsDiff(tidy(() => got.get(i)!.select(0, 0).toFloat32Array()), want1[i]) <= 1e-6, `hidden ${i}`);
  model.dispose();
});

test('malformed adapter folders are refused with a message naming the problem', () => {
  const { model } = tinyModel();
  const lora = applyLora(model, config, { seed: 1 });
  const good = makeTempDir('adapter-', root);
  saveAdapter(good, lora);
  lora.dispose();
  const variant = (edit: (dir: string) => void): string => {
    const dir = makeTempDir('bad-', root);
    writeFileSync(join(dir, ADAPTER_CONFIG), readFileSync(join(good, ADAPTER_CONFIG)));
    writeFileSync(join(dir, ADAPTER_WEIGHTS), readFileSync(join(good, ADAPTER_WEIGHTS)));
    edit(dir);
    return dir;
  };
  const editConfig = (f: (c: Record<string, unknown>) => void) => (dir: string) => {
    const c = JSON.parse(readFileSync(join(dir, ADAPTER_CONFIG), 'utf8'));
    f(c);
    writeFileSync(join(dir, ADAPTER_CONFIG), JSON.stringify(c));
  };
  const weights = (extra: Record<string, { shape: number[] }>, drop: string[] = []) => (dir: string) => {
    const t = new Map<string, { dtype: 'float32'; shape: number[]; data: Float32Array }>();
    for (const k of ['A', 'B'] as const) for (const l of [0, 1]) for (const m of ['q_proj', 'v_proj']) {
      const key = peftKey(`model.layers.${l}.self_attn.${m}`, k);
      const shape = k === 'A' ? [4, 32] : [m === 'q_proj' ? 32 : 16, 4];
      if (!drop.includes(key)) t.set(key, { dtype: 'float32', shape, data: new Float32Array(shape[0] * shape[1]) });
    }
    for (const [key, { shape }] of Object.entries(extra)) t.set(key, { dtype: 'float32', shape, data: new Float32Array(shape[0] * shape[1]) });
    writeSafetensors(join(dir, ADAPTER_WEIGHTS), t);
  };
  const cases: [string, string, RegExp][] = [
    ['no folder', join(good, 'nope'), /does not exist/],
    ['missing config', variant((d) => rmSync(join(d, ADAPTER_CONFIG))), /missing adapter_config\.json/],
    ['missing weights', variant((d) => rmSync(join(d, ADAPTER_WEIGHTS))), /missing adapter_model\.safetensors/],
    ['not LoRA', variant(editConfig((c) => (c.peft_type = 'IA3'))), /peft_type/],
    ['bad r', variant(editConfig((c) => (c.r = 0))), /\br must be/],
    ['DoRA', variant(editConfig((c) => (c.use_dora = true))), /use_dora/],
    ['unknown target', variant(editConfig((c) => (c.target_modules = ['q_proj', 'v_proj', 'c_attn']))), /c_attn/],
    ['wrong shape', variant(weights({ [peftKey('model.layers.0.self_attn.q_proj', 'A')]: { shape: [8, 32] } })), /model\.layers\.0\.self_attn\.q_proj\.lora_A\.weight' has shape \[8, 32\]/],
    ['module not in model', variant(weights({ [peftKey('model.layers.7.self_attn.q_proj', 'A')]: { shape: [4, 32] }, [peftKey('model.layers.7.self_attn.q_proj', 'B')]: { shape: [32, 4] } })), /model\.layers\.7\.self_attn\.q_proj' is not a linear layer/],
    ['missing B', variant(weights({}, [peftKey('model.layers.1.self_attn.v_proj', 'B')])), /missing 'base_model\.model\.model\.layers\.1\.self_attn\.v_proj\.lora_B\.weight'/],
  ];
  for (const [name, dir, pattern] of cases) {
    assert.throws(() => loadAdapter(dir, model), (e: unknown) => e instanceof IclitError && pattern.test(e.message), name);
    assert.ok(isBase(model), `${name}: the model is left without LoRA`);
  }
  // The untouched copy still loads.
  loadAdapter(variant(() => {}), model);
  model.dispose();
});

test('LoRA in a bfloat16 model runs the adapter in float32 and returns bfloat16', () => {
  const dir = writeRandomCheckpoint(makeTempDir('lora-', root), tinyConfig(), { seed: 3 });
  const model = LlamaModel.load(dir, { dtype: 'bfloat16' });
  const lora = applyLora(model, config);
  assert.equal(lora.params.get(peftKey('model.layers.0.self_attn.q_proj', 'A'))!.dtype, 'float32');
  const y = lora.apply(() => tidy(() => model.linears.get('model.layers.0.self_attn.q_proj')!.forward(tensor(new Array(2 * 3 * 32).fill(0.5), [2, 3, 32]).to('bfloat16')).dtype));
  assert.equal(y, 'bfloat16');
  model.dispose();
});
