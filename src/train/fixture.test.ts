// Fixture tier: per-token loss, LoRA gradients and a 5-step AdamW trajectory against the PyTorch/PEFT reference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile } from '../io/index.js';
import { LlamaModel } from '../models/index.js';
import { applyLora, peftKey, setAdapterWeights, type LoraAdapters } from '../lora/index.js';
import { noGrad, tidy } from '../torch/index.js';
import { assertClose, missingShared, sharedPath } from '../util/testing.js';
import { groupedLoss, meanLoss, perTokenLoss, trainLora } from './index.js';
import { adapterFrom } from './testing.js';

const FIXTURE = 'fixtures/tiny-llama';

interface Reference {
  train_ids: number[];
  infer_ids: number[];
  response_mask: number[];
  'train.loss': number;
  'train.loss_response_only': number;
  lora: { targets: string[]; r: number; alpha: number; dropout: number };
  'lora.loss': number;
  adamw: { steps: number; lr: number; weight_decay: number; betas: [number, number]; eps: number; losses: number[] };
}

function open(t: { skip: (m: string) => void }): { dir: string; ref: Reference; file: SafetensorsFile } | undefined {
  const dir = sharedPath(FIXTURE);
  if (!dir) {
    t.skip(missingShared(FIXTURE));
    return undefined;
  }
  const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as Reference;
  return { dir, ref, file: SafetensorsFile.open(join(dir, 'reference.safetensors')) };
}

function values(file: SafetensorsFile, name: string): Float32Array {
  return tidy(() => file.tensor(name).toFloat32Array());
}

function fixtureLora(model: LlamaModel, ref: Reference, file: SafetensorsFile): LoraAdapters {
  const lora = applyLora(model, { r: ref.lora.r, alpha: ref.lora.alpha, dropout: ref.lora.dropout, targets: ref.lora.targets });
  const init = adapterFrom(file, 'lora.init');
  assert.equal(init.size, 12);
  setAdapterWeights(lora, init);
  for (const t of init.values()) t.dispose();
  return lora;
}

/** Relative error ‖a − e‖ / ‖e‖. */
function relativeError(a: Float32Array, e: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - e[i]) ** 2;
    den += e[i] ** 2;
  }
  return Math.sqrt(num / den);
}

test('tiny-llama fixture: per-token loss and the mean losses (all targets, response only) within 1e-5', (t) => {
  const f = open(t);
  if (!f) return;
  const model = LlamaModel.load(f.dir);
  const per = perTokenLoss(model, f.ref.train_ids);
  assert.equal(per.length, f.ref.train_ids.length - 1);
  assertClose(per, values(f.file, 'train.per_token_loss'), 1e-5, 0, 'per-token loss');
  assert.ok(Math.abs(meanLoss(per) - f.ref['train.loss']) < 1e-5, `mean loss ${meanLoss(per)} vs ${f.ref['train.loss']}`);
  const resp = meanLoss(per, f.ref.response_mask);
  assert.ok(Math.abs(resp - f.ref['train.loss_response_only']) < 1e-5, `response-only loss ${resp} vs ${f.ref['train.loss_response_only']}`);
  // The training loss with a loss mask is the same mean.
  const masked = tidy(() => groupedLoss(model, [{ ids: f.ref.train_ids, lossMask: f.ref.response_mask }]).perGroup[0]);
  assert.ok(Math.abs(masked - f.ref['train.loss_response_only']) < 1e-5, `masked training loss ${masked}`);
  model.dispose();
});

test('tiny-llama fixture: LoRA loss and gradients of A and B within 1e-5 relative', (t) => {
  const f = open(t);
  if (!f) return;
  const model = LlamaModel.load(f.dir);
  const lora = fixtureLora(model, f.ref, f.file);
  tidy(() => {
    const loss = lora.apply(() => groupedLoss(model, [{ ids: f.ref.train_ids }]));
    assert.ok(Math.abs(loss.perGroup[0] - f.ref['lora.loss']) < 1e-5, `LoRA loss ${loss.perGroup[0]} vs ${f.ref['lora.loss']}`);
    loss.total.backward();
  });
  let checked = 0;
  for (const name of f.file.names().filter((n) => n.startsWith('lora.grad.'))) {
    const m = /^lora\.grad\.(.+)\.lora_([AB])\.weight$/.exec(name)!;
    const p = lora.params.get(peftKey(m[1], m[2] as 'A' | 'B'))!;
    const got = tidy(() => p.grad!.select(0, 0).toFloat32Array());
    const want = values(f.file, name);
    const rel = relativeError(got, want);
    assert.ok(rel < 1e-5, `${name}: relative error ${rel}`);
    checked++;
  }
  assert.equal(checked, 12);
  model.dispose();
});

test('tiny-llama fixture: 5 AdamW steps match the reference losses, final adapter and hidden states', (t) => {
  const f = open(t);
  if (!f) return;
  const a = f.ref.adamw;
  const model = LlamaModel.load(f.dir);
  const lora = fixtureLora(model, f.ref, f.file);
  const example = { ids: f.ref.train_ids };
  const result = trainLora(model, lora, [Array.from({ length: a.steps }, () => example)], {
    epochs: 1, batchSize: 1, lr: a.lr, weightDecay: a.weight_decay, betas: a.betas, eps: a.eps, schedule: 'constant',
  });
  assertClose(result.losses.map((l) => l[0]), a.losses, 1e-5, 0, 'AdamW losses');
  const final = adapterFrom(f.file, 'adamw.final');
  for (const [key, want] of final) {
    const got = tidy(() => lora.params.get(key)!.select(0, 0).toFloat32Array());
    assertClose(got, want.toFloat32Array(), 1e-5, 0, `final ${key}`);
    want.dispose();
  }
  const hidden = lora.apply(() => noGrad(() => model.forward([f.ref.infer_ids], { hiddenStates: [0, 1, 2, 3], positions: 'last' }).hidden));
  for (let i = 0; i <= 3; i++) assertClose(hidden.get(i)!.toFloat32Array(), values(f.file, `adamw.infer.hidden.${i}`), 1e-4, 0, `hidden ${i} after AdamW`);
  model.dispose();
});
