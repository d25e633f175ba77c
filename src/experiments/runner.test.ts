// End-to-end tests of the study runner on a tiny random LLaMA: every preset, reproducibility, resume, sampling invariants.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultInstructionPool, loadDataset, type Dataset } from '../data/index.js';
import { cosine } from '../stats/index.js';
import { IclitError } from '../util/errors.js';
import type { RecordSink, UnitResult } from './backend.js';
import { PRESETS, STUDY_DEFAULTS, findPreset, resolveConditions, type Preset } from './conditions.js';
import { LlamaStudyBackend } from './llama-backend.js';
import { DEFAULT_METHODS } from './methods.js';
import type { RepeatRecord } from './record.js';
import { runPlan, type StudyPlan } from './runner.js';
import { candidatePool, repeatUnits, taskMaterials } from './units.js';
import { letterEmbedder, writeTinyStudy } from './testing.js';
import { makeTempDir, removeTempDir } from '../util/testing.js';

const root = makeTempDir('iclit-study-');
const tiny = writeTinyStudy(root);
let backend: LlamaStudyBackend;
let sst2: Dataset;
let wmt: Dataset;

test.before(async () => {
  backend = await LlamaStudyBackend.load(tiny.model);
  sst2 = await loadDataset(tiny.sst2, 'sentiment');
  wmt = await loadDataset(tiny.wmt, 'translation');
});
test.after(() => {
  backend.dispose();
  removeTempDir(root);
});

function planFor(p: Preset, over: Partial<StudyPlan> = {}): StudyPlan {
  return {
    experiment: p.name,
    conditions: resolveConditions(p, p.fixedShots ? {} : { shots: 2, epochs: 2 }),
    repeats: 2,
    seed: 11,
    layers: 'all',
    tune: { lr: 1e-3, lrSchedule: STUDY_DEFAULTS.lrSchedule, weightDecay: 0, lora: { r: 4, alpha: 16, dropout: 0.05, targets: [...STUDY_DEFAULTS.lora.targets] } },
    batch: 2,
    materials: { data: p.task === 'sentiment' ? sst2 : wmt, demoData: wmt, instructions: defaultInstructionPool(p.task), embedder: letterEmbedder(), similarityCandidates: 30 },
    methods: DEFAULT_METHODS,
    evalExamples: 6,
    configHash: 'ab'.repeat(32),
    save: { states: true, adapters: false },
    ...over,
  };
}

/** A sink in memory that records each save call. */
function memorySink(done: UnitResult[] = []): RecordSink & { saves: UnitResult[][]; all: RepeatRecord[]; results: UnitResult[] } {
  const results = [...done];
  const saves: UnitResult[][] = [];
  const sink = {
    results,
    saves,
    get all(): RepeatRecord[] {
      return results.map((x) => x.record);
    },
    isDone: (k: { experiment: string; condition: string; repeat: number; model: string }) =>
      results.some(({ record: r }) => r.experiment === k.experiment && r.condition === k.condition && r.repeat === k.repeat && r.model === k.model),
    save: (rs: UnitResult[]) => {
      saves.push(rs);
      results.push(...rs);
    },
  };
  return sink;
}

const stable = (rs: RepeatRecord[]): unknown[] =>
  [...rs].sort((a, b) => a.repeat - b.repeat || a.condition.localeCompare(b.condition)).map(({ millis: _m, ...rest }) => rest);

test('every preset runs end to end (repeats=2): one save per repeat, all layers, shared inference example, similarities = cosines of the returned states', () => {
  for (const p of PRESETS) {
    const plan = planFor(p);
    const sink = memorySink();
    const events: number[] = [];
    const summary = runPlan(plan, backend, sink, { onProgress: (e) => events.push(e.done) });
    const nc = plan.conditions.length;
    assert.equal(summary.computed, 2, p.name);
    assert.equal(sink.saves.length, 2, `${p.name}: one save per repeat`);
    for (const [r, group] of sink.saves.entries()) {
      assert.equal(group.length, nc, `${p.name}: every condition in the group`);
      assert.ok(group.every(({ record: x }) => x.repeat === r && x.experiment === p.name && x.model === 'tiny-llama' && x.configHash === plan.configHash));
      // the same inference example and instruction across the conditions of one repeat
      assert.equal(new Set(group.map((x) => x.record.prompts.anchor)).size, 1, `${p.name}: one anchor per repeat`);
      assert.equal(new Set(group.map((x) => x.record.extra.inferenceIndex)).size, 1);
      for (const { record: x, states } of group) {
        assert.deepEqual(x.layers, [0, 1, 2]);
        if (x.extra.empty === true) {
          assert.ok(x.simAnchorIcl.every(Number.isNaN) && x.simUpdate.every(Number.isNaN), `${p.name}: empty bin has NaN similarities`);
          assert.equal(states, undefined, 'an empty bin stores no states');
          assert.equal(x.outputs, undefined, 'an empty bin has no outputs');
          assert.equal(x.attention, undefined, 'an empty bin has no attention');
          continue;
        }
        assert.ok(states, `${p.name}: states are handed to the sink`);
        // the record's numbers are the cosines of the states it stores (the update cosine included)
        x.layers.forEach((_, l) => {
          assert.equal(x.simAnchorIcl[l], cosine(states.anchor[l], states.icl[l]));
          assert.equal(x.simAnchorIt[l], cosine(states.anchor[l], states.it[l]));
          assert.equal(x.simIclIt[l], cosine(states.icl[l], states.it[l]));
          const du = states.icl[l].map((v, j) => v - states.anchor[l][j]);
          const dt = states.it[l].map((v, j) => v - states.anchor[l][j]);
          if (l > 0) assert.ok(Math.abs(x.simUpdate[l] - cosine(du, dt)) < 1e-6, `${p.name}: simUpdate at layer ${l}`);
        });
        for (const s of [x.simAnchorIcl, x.simAnchorIt, x.simIclIt]) assert.ok(s.length === 3 && s.every((v) => v >= -1 && v <= 1), `${p.name}/${x.condition}: ${s}`);
        // the embeddings (hidden state 0) at the last token do not depend on the context or on LoRA on q/v
        assert.ok(Math.abs(x.simAnchorIt[0] - 1) < 1e-5 && Math.abs(x.simAnchorIcl[0] - 1) < 1e-5);
        assert.ok(Number.isFinite(x.tuneLoss) && x.tuneLoss! > 0);
        assert.equal(x.prompts.tuning.length, x.extra.shots);
        assert.ok(x.prompts.icl.endsWith(x.prompts.anchor.split('\n').slice(1).join('\n')), 'ICL ends with B');
        assert.equal(x.tokenCounts.tuning.length, x.prompts.tuning.length);
        // output and attention agreement every repeat (values: agreement.test.ts); label mass where the task has label words
        const o = x.outputs!;
        assert.ok([o.klIclIt, o.klIclAnchor, o.klItAnchor].every((v) => v >= 0) && o.jsIclIt >= 0 && o.jsIclIt <= Math.LN2, `${p.name}: divergences`);
        assert.equal(o.labelMass !== undefined, p.task === 'sentiment', `${p.name}: label mass for label-word tasks only`);
        for (const k of ['anchorIcl', 'anchorIt', 'iclIt', 'change', 'demoShare'] as const) {
          assert.equal(x.attention![k].length, 3);
          assert.ok(Number.isNaN(x.attention![k][0]) && x.attention![k].slice(1).every(Number.isFinite), `${p.name}: attention.${k}`);
        }
      }
    }
    assert.deepEqual(events, [0, 1, 2], `${p.name}: progress events`);
    if (p.name === 'accuracy') {
      for (const x of sink.all) {
        assert.equal(x.accuracy!.n, 6, 'accuracy over --eval-examples examples');
        for (const k of ['zeroShot', 'icl', 'it'] as const) assert.ok(x.accuracy![k] >= 0 && x.accuracy![k] <= 1 && Number.isInteger(x.accuracy![k] * 6));
        // flips: zero-shot errors fixed; at most the errors, at most what each gets right beyond the zero-shot's rights
        const f = x.accuracy!.flips!;
        const a = x.accuracy!;
        const wrong = Math.round((1 - a.zeroShot) * 6);
        assert.ok(f.both <= Math.min(f.it, f.icl) && f.it <= wrong && f.icl <= wrong, `${JSON.stringify(f)} of ${wrong} errors`);
        assert.ok(f.it >= Math.round((a.it - a.zeroShot) * 6) && f.icl >= Math.round((a.icl - a.zeroShot) * 6), 'net gains come from flips');
      }
      // zero-shot accuracy is measured on the same evaluation set in both label conditions of a repeat
      for (const r of [0, 1]) assert.equal(new Set(sink.all.filter((x) => x.repeat === r).map((x) => x.accuracy!.zeroShot)).size, 1);
    } else assert.ok(sink.all.every((x) => x.accuracy === undefined));
    if (p.name === 'token-loss') for (const x of sink.all) assert.ok(Number.isFinite(x.lossDecrease!.instruction) && Number.isFinite(x.lossDecrease!.example));
    if (p.name === 'demo-similarity') {
      assert.equal(plan.conditions.length, 10);
      const empty = sink.all.filter((x) => x.extra.empty === true);
      assert.ok(empty.length > 0 && empty.length < sink.all.length, 'some bins are empty, some are not (toy embedder)');
      for (const x of empty) assert.equal((x.extra.binCandidates as number) < 2, true);
      for (const x of sink.all.filter((y) => y.extra.empty === false)) {
        const b = Number(x.condition.slice(4));
        assert.ok((x.extra.demoCosine as number) >= b / 10 - 1e-9 && (x.extra.demoCosine as number) <= (b + 1) / 10 + 1e-9, 'demonstrations come from their bin');
      }
    }
    if (p.name === 'cross-task') {
      const t = sink.all.find((x) => x.condition === 'translation-demos')!;
      assert.match(t.prompts.icl, /English: .*\nCzech: /);
      assert.match(t.prompts.icl, /\nReview: .*\nSentiment:$/);
      assert.match(t.prompts.tuning[0], /^.*\nEnglish: /);
    }
    if (p.name === 'sl') {
      const it = sink.all.find((x) => x.condition === 'it' && x.repeat === 0)!;
      const sl = sink.all.find((x) => x.condition === 'sl' && x.repeat === 0)!;
      assert.deepEqual(sl.prompts.tuning, it.prompts.tuning.map((t) => t.slice(t.indexOf('\n') + 1)));
      assert.equal(sl.prompts.icl, it.prompts.icl);
    }
  }
});

test('the ICL and anchor states a record stores are the base model read directly; accuracy equals a direct scoring', () => {
  const sink = memorySink();
  runPlan(planFor(findPreset('accuracy'), { repeats: 1, batch: 1 }), backend, sink);
  const { record: x, states } = sink.results[0];
  const direct = backend.hidden([backend.encode(x.prompts.anchor), backend.encode(x.prompts.icl)], x.layers);
  x.layers.forEach((_, l) => {
    // read in a batch of one vs two (padding): float32 rounding only
    assert.ok(states!.anchor[l].every((v, j) => Math.abs(v - direct[0][l][j]) < 1e-5));
    assert.ok(states!.icl[l].every((v, j) => Math.abs(v - direct[1][l][j]) < 1e-5));
  });
  assert.equal(x.extra.evalExamples, 6);
});

test('wrong-label and shots: the same demonstrations, labels replaced; k=5 is a prefix of k=10; shots tunes 10/5/2/1 epochs', () => {
  const wrong = memorySink();
  runPlan(planFor(findPreset('wrong-label'), { repeats: 1 }), backend, wrong);
  const [right, flipped] = [wrong.all.find((x) => x.condition === 'right-labels')!, wrong.all.find((x) => x.condition === 'wrong-labels')!];
  assert.equal(right.extra.demoIndices, flipped.extra.demoIndices);
  const swap = (s: string): string => s.replace(/Sentiment: (Negative|Positive)/g, (_m, w: string) => `Sentiment: ${w === 'Negative' ? 'Positive' : 'Negative'}`);
  assert.equal(swap(right.prompts.icl), flipped.prompts.icl);
  assert.notEqual(right.prompts.icl, flipped.prompts.icl);
  assert.deepEqual(flipped.prompts.tuning, right.prompts.tuning.map(swap));

  const shots = memorySink();
  runPlan(planFor(findPreset('shots'), { repeats: 1 }), backend, shots);
  const demos = (k: number): string[] => String(shots.all.find((x) => x.condition === `k=${k}`)!.extra.demoIndices).split(',');
  assert.deepEqual(demos(5), demos(10).slice(0, 5));
  assert.deepEqual(shots.all.map((x) => [x.extra.shots, x.extra.epochs]), [[1, 10], [2, 5], [5, 2], [10, 1]]);
});

test('same draw + same settings give the same numbers in any preset, whatever the condition is called', () => {
  const one = { shots: 1, epochs: 2 };
  const run = (preset: string, condition: string): RepeatRecord[] => {
    const p = findPreset(preset);
    const sink = memorySink();
    runPlan(planFor(p, { conditions: resolveConditions(p, one), repeats: 2 }), backend, sink);
    return sink.all.filter((x) => x.condition === condition).sort((a, b) => a.repeat - b.repeat);
  };
  const base = run('convergence', 'right-labels');
  const others = [run('wrong-label', 'right-labels'), run('cross-task', 'same-task'), run('sl', 'it'), run('token-loss', 'right-labels')];
  for (const o of others) {
    assert.equal(o.length, base.length);
    o.forEach((x, i) => {
      assert.equal(x.prompts.icl, base[i].prompts.icl);
      for (const k of ['simAnchorIcl', 'simAnchorIt', 'simIclIt', 'simUpdate'] as const) assert.deepEqual(x[k], base[i][k], `${x.experiment}/${x.condition} ${k}`);
      assert.equal(x.tuneLoss, base[i].tuneLoss);
    });
  }
});

test('same seed twice gives identical records; another seed gives other draws', () => {
  const p = findPreset('accuracy');
  const a = memorySink();
  const b = memorySink();
  runPlan(planFor(p), backend, a);
  runPlan(planFor(p), backend, b);
  assert.deepEqual(stable(b.all), stable(a.all));
  const c = memorySink();
  runPlan(planFor(p, { seed: 12 }), backend, c);
  assert.notDeepEqual(stable(c.all).map((x) => (x as RepeatRecord).prompts), stable(a.all).map((x) => (x as RepeatRecord).prompts));
});

test('resume: a crash after the first saved repeat, then a second run computes only the rest and equals an uninterrupted run', () => {
  const p = findPreset('wrong-label');
  const plan = planFor(p, { repeats: 3, batch: 1 });
  const whole = memorySink();
  runPlan(plan, backend, whole);

  const first = memorySink();
  const crashing: RecordSink = {
    isDone: first.isDone,
    save: (rs) => {
      if (first.saves.length === 1) throw new Error('killed');
      first.save(rs);
    },
  };
  assert.throws(() => runPlan(plan, backend, crashing), /killed/);
  assert.equal(first.saves.length, 1);
  const resumed = memorySink(first.results);
  const summary = runPlan(plan, backend, resumed);
  assert.deepEqual([summary.computed, summary.skipped], [2, 1]);
  assert.deepEqual(resumed.saves.map((g) => g[0].record.repeat), [1, 2], 'repeat 0 is not computed again');
  assert.deepEqual(stable(resumed.all), stable(whole.all));

  // a repeat with one condition missing recomputes only that condition
  const partial = memorySink(whole.results.filter(({ record: x }) => !(x.repeat === 2 && x.condition === 'wrong-labels')));
  runPlan(plan, backend, partial);
  assert.deepEqual(partial.saves.map((g) => g.map(({ record: x }) => `${x.repeat}/${x.condition}`)), [['2/wrong-labels']]);
  assert.deepEqual(stable(partial.all), stable(whole.all));

  // demo-similarity resumed for one bin draws from the same bins as the full repeat
  const sim = planFor(findPreset('demo-similarity'), { repeats: 1, batch: 1 });
  const full = memorySink();
  runPlan(sim, backend, full);
  const one = full.results.find(({ record: x }) => x.extra.empty === false)!;
  const again = memorySink(full.results.filter((x) => x !== one));
  runPlan(sim, backend, again);
  assert.deepEqual(again.saves.map((g) => g.map(({ record: x }) => x.condition)), [[one.record.condition]]);
  assert.deepEqual(stable(again.all), stable(full.all));
});

test('batched adapters: tuning two repeats together equals tuning each alone (LoRA dropout on: masks are drawn per adapter)', () => {
  const plan = planFor(findPreset('convergence'), { repeats: 2 });
  assert.equal(plan.tune.lora.dropout, 0.05);
  const together = memorySink();
  runPlan({ ...plan, batch: 2 }, backend, together);
  const alone = memorySink();
  runPlan({ ...plan, batch: 1 }, backend, alone);
  for (const [i, x] of together.all.entries()) {
    const y = alone.all[i];
    assert.equal(x.prompts.icl, y.prompts.icl);
    for (const k of ['simAnchorIcl', 'simAnchorIt', 'simIclIt'] as const) x[k].forEach((v, l) => assert.ok(Math.abs(v - y[k][l]) < 1e-4, `${k}[${l}]: ${v} vs ${y[k][l]}`));
    assert.ok(Math.abs(x.tuneLoss! - y.tuneLoss!) < 1e-4);
  }
});

test('backend reads: hidden states at the last token, per-token losses and label logits match direct model calls', () => {
  const ids = [backend.encode('Review: great fun\nSentiment:'), backend.encode('Review: a dull mess , tedious 3 .\nSentiment:')];
  const h = backend.hidden(ids, [1, 2]);
  const single = backend.hidden([ids[1]], [1, 2]);
  single[0].forEach((v, l) => v.forEach((x, j) => assert.ok(Math.abs(x - h[1][l][j]) < 1e-5)));
  // per-token losses: −log softmax(logits[t])[ids[t+1]] of a direct forward of each text alone
  const losses = backend.tokenLosses(ids);
  for (const [b, seq] of ids.entries()) {
    const { logits } = backend.model.forward([seq], { logits: true, logitsPositions: 'all' });
    const all = logits!.toArray();
    logits!.dispose();
    const V = backend.model.config.vocabSize;
    assert.equal(losses[b].length, seq.length - 1);
    for (let t = 0; t + 1 < seq.length; t++) {
      const row = all.slice(t * V, (t + 1) * V);
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
      assert.ok(Math.abs(losses[b][t] - (lse - row[seq[t + 1]])) < 1e-4, `text ${b} token ${t}`);
    }
  }
  const logits = backend.lastLogits([ids[0]], [[ids[1][2], ids[1][3]]]);
  const { logits: full } = backend.model.forward([ids[0]], { logits: true });
  const row = full!.toArray();
  full!.dispose();
  assert.deepEqual(logits[0].map((v) => Math.round(v * 1e4)), [row[ids[1][2]], row[ids[1][3]]].map((v) => Math.round(v * 1e4)));
});

test('bad plans are refused with clear messages', () => {
  const p = findPreset('convergence');
  assert.throws(() => runPlan(planFor(p, { layers: [0, 9] }), backend, memorySink()), (e: Error) => e instanceof IclitError && /hidden state 9 is out of range/.test(e.message));
  assert.throws(() => runPlan(planFor(findPreset('demo-similarity'), { materials: { data: sst2, instructions: defaultInstructionPool('sentiment') } }), backend, memorySink()), /needs a sentence encoder/);
  assert.throws(() => runPlan(planFor(findPreset('cross-task'), { materials: { data: sst2, instructions: defaultInstructionPool('sentiment') } }), backend, memorySink()), /--demo-data/);
  assert.throws(() => resolveConditions(findPreset('shots'), { shots: 3 }), /sets its own shots/);
  assert.throws(() => findPreset('nope'), /unknown preset 'nope'/);
  assert.throws(() => runPlan(planFor(findPreset('accuracy'), { evalExamples: 40 }), backend, memorySink()), /cannot draw 40 evaluation examples from 40 rows/);
});

test('demo-similarity candidates: every --data row by default, the inference example included (the top bin can hold it, cosine 1)', () => {
  const views = taskMaterials({ data: sst2, instructions: defaultInstructionPool('sentiment'), embedder: letterEmbedder() }, DEFAULT_METHODS);
  const pool = candidatePool(views, 5);
  assert.deepEqual(pool.indices, [...Array(sst2.examples.length).keys()], 'the whole file, in order');
  const conds = resolveConditions(findPreset('demo-similarity'), {});
  const emb = letterEmbedder();
  const vecs = emb.embed(sst2.examples.map((e) => (e as { text: string }).text));
  for (let r = 0; r < 4; r++) {
    const units = repeatUnits(conds, views, 5, r, { pool });
    const inference = units[0].inferenceIndex;
    const top = units.find((u) => u.condition.bin === 9)!;
    // the top bin [0.9, 1] counts every row with cosine ≥ 0.9 to B, B itself (cosine 1) among them
    const inTop = vecs.filter((v) => cosine(v, vecs[inference]) >= 0.9).length;
    assert.ok(inTop >= 1);
    assert.equal(top.bin?.candidates, inTop, `repeat ${r}`);
  }
  // --candidates N: a seeded subset of N rows
  const some = candidatePool({ ...views, similarityCandidates: 10 }, 5);
  assert.equal(some.indices.length, 10);
});

test("cross-task ICL prompt in footnote 5's form: the instruction before the translation demonstration and again before B; the tuning text is X + the pair", () => {
  const views = taskMaterials({ data: sst2, demoData: wmt, instructions: defaultInstructionPool('sentiment') }, DEFAULT_METHODS);
  const c = resolveConditions(findPreset('cross-task'), {}).find((x) => x.demoTask === 'translation')!;
  const [u] = repeatUnits([c], views, 3, 0);
  const x = u.anchor.text.slice(0, u.anchor.parts[0].end);
  const b = u.anchor.text.slice(u.anchor.parts[0].end);
  assert.equal(u.icl.text.split(x).length - 1, 2, 'X twice: before the demonstration and before B');
  assert.match(u.icl.text, new RegExp(`^${x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}English: .+\nCzech: .+\n\n`));
  assert.ok(u.icl.text.endsWith(`\n\n${x}${b}`), 'X + B at the end');
  assert.deepEqual(u.icl.parts.map((p) => p.kind), ['instruction', 'demonstration', 'separator', 'instruction', 'inference']);
  assert.match(u.tuning[0].text, /^.+\nEnglish: .+\nCzech: .+$/);
  assert.ok(u.tuning[0].text.startsWith(x));
  // --instruction-placement once: the instruction only at the start
  const once = repeatUnits([c], taskMaterials({ data: sst2, demoData: wmt, instructions: defaultInstructionPool('sentiment') }, { ...DEFAULT_METHODS, instructionPlacement: 'once' }), 3, 0)[0];
  assert.equal(once.icl.text.split(x).length - 1, 1);
});
