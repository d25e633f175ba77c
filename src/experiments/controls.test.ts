// The built-in controls through the runner: conditions as data, shuffled labels as a permutation of other repeats' gold labels, untrained and random-adapter runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultInstructionPool, loadDataset, type Dataset } from '../data/index.js';
import { IclitError } from '../util/errors.js';
import { tempDir } from '../util/testing.js';
import type { RecordSink, UnitResult } from './backend.js';
import { CONTROL_NAMES, withControls } from './controls.js';
import { STUDY_DEFAULTS, findPreset, resolveConditions, type Condition } from './conditions.js';
import { LlamaStudyBackend } from './llama-backend.js';
import { DEFAULT_METHODS } from './methods.js';
import { openModelFolder, type ModelFolder } from './model-folder.js';
import { recordCondition, type RepeatRecord } from './record.js';
import { runPlan, type StudyPlan } from './runner.js';
import { labelDonor, repeatUnits, taskMaterials, type Unit } from './units.js';
import { writeTinyStudy } from './testing.js';
import { planWorkByWeights } from './work.js';

const root = tempDir(test, 'iclit-controls-');
const tiny = writeTinyStudy(root);
let folder: ModelFolder;
let trained: LlamaStudyBackend;
let untrained: LlamaStudyBackend;
let sst2: Dataset;

test.before(async () => {
  folder = await openModelFolder(tiny.model);
  trained = LlamaStudyBackend.fromFolder(folder);
  untrained = LlamaStudyBackend.untrained(folder, 5);
  sst2 = await loadDataset(tiny.sst2, 'sentiment');
});
test.after(() => {
  trained.dispose();
  untrained.dispose();
  folder.close();
});

const convergence = (): Condition[] => resolveConditions(findPreset('convergence'), { shots: 2, epochs: 2 });

function planOf(conditions: Condition[], over: Partial<StudyPlan> = {}): StudyPlan {
  return {
    experiment: 'convergence',
    conditions,
    repeats: 3,
    seed: 11,
    layers: 'all',
    tune: { lr: 1e-2, lrSchedule: STUDY_DEFAULTS.lrSchedule, weightDecay: 0, lora: { r: 4, alpha: 16, dropout: 0.05, targets: [...STUDY_DEFAULTS.lora.targets] } },
    batch: 2,
    materials: { data: sst2, instructions: defaultInstructionPool('sentiment') },
    methods: DEFAULT_METHODS,
    evalExamples: 6,
    configHash: 'cd'.repeat(32),
    save: { states: false, adapters: false },
    ...over,
  };
}

function memorySink(): RecordSink & { all: RepeatRecord[] } {
  const results: UnitResult[] = [];
  return {
    get all() {
      return results.map((x) => x.record);
    },
    isDone: (k) => results.some(({ record: r }) => r.experiment === k.experiment && r.condition === k.condition && r.repeat === k.repeat && r.model === k.model),
    save: (rs) => void results.push(...rs),
  };
}

test('--controls as data: each control a copy of the preset\'s first condition with one setting changed, named control:<name>, in one order', () => {
  const [first] = convergence();
  const conds = withControls(convergence(), ['shuffled-labels', 'untrained', 'random-adapter']);
  assert.deepEqual(conds.map((c) => c.name), ['right-labels', 'control:untrained', 'control:random-adapter', 'control:shuffled-labels']);
  assert.deepEqual(conds[0], first, 'the preset\'s condition is unchanged');
  assert.deepEqual(conds[1], { ...first, name: 'control:untrained', weights: 'untrained', control: 'untrained' });
  assert.deepEqual(conds[2], { ...first, name: 'control:random-adapter', itAdapter: 'random-direction', control: 'random-adapter' });
  assert.deepEqual(conds[3], { ...first, name: 'control:shuffled-labels', labels: 'shuffled', control: 'shuffled-labels' });
  assert.equal(withControls(convergence(), []).length, 1);
  // for a preset of several conditions, only the first is copied
  const wrong = withControls(resolveConditions(findPreset('wrong-label'), {}), ['untrained']);
  assert.deepEqual(wrong.map((c) => [c.name, c.labels]), [['right-labels', 'right'], ['wrong-labels', 'wrong'], ['control:untrained', 'right']]);
  assert.deepEqual(CONTROL_NAMES, ['untrained', 'random-adapter', 'shuffled-labels']);
});

/** The label index of each demonstration of a unit's ICL prompt, read from the prompt text itself. */
function promptLabels(u: Unit, words: readonly string[]): number[] {
  return u.icl.parts.filter((p) => p.kind === 'demonstration').map((p) => words.indexOf(u.icl.text.slice(p.answer!.start, p.answer!.end).trim()));
}

test('shuffled labels: each demonstration takes the gold label of the same-position demonstration of another repeat; over the repeats a permutation of their gold labels', () => {
  const views = taskMaterials({ data: sst2, instructions: defaultInstructionPool('sentiment') }, DEFAULT_METHODS);
  const words = views.data.labelWords!;
  const conds = withControls(resolveConditions(findPreset('convergence'), { shots: 3 }), ['shuffled-labels']);
  const R = 8;
  const units = Array.from({ length: R }, (_, r) => repeatUnits(conds, views, 4, r, { repeats: R }));
  const donors = units.map((_, r) => labelDonor(4, R, r));
  assert.deepEqual([...donors].sort((a, b) => a - b), [...Array(R).keys()], 'the donors are a permutation of the repeats');
  donors.forEach((d, r) => assert.notEqual(d, r, `repeat ${r} takes another repeat's labels`));
  const all: number[] = [];
  const gold: number[] = [];
  units.forEach(([right, shuffled], r) => {
    assert.equal(shuffled.condition.labels, 'shuffled');
    assert.deepEqual(shuffled.demoIndices, right.demoIndices, 'the same demonstrations (texts), relabelled');
    assert.deepEqual(promptLabels(right, words), right.demoIndices.map((i) => views.data.gold(i)), 'right labels are the gold ones');
    const donor = units[donors[r]][0];
    assert.deepEqual(promptLabels(shuffled, words), donor.demoIndices.map((i) => views.data.gold(i)), `repeat ${r}: the gold labels of repeat ${donors[r]}'s demonstrations`);
    assert.deepEqual(shuffled.tuning.map((p) => p.text.slice(p.parts.at(-1)!.answer!.start, p.parts.at(-1)!.answer!.end).trim()), promptLabels(shuffled, words).map((l) => words[l]), 'the tuning texts carry the same labels');
    all.push(...promptLabels(shuffled, words));
    gold.push(...right.demoIndices.map((i) => views.data.gold(i)!));
  });
  assert.deepEqual(all.sort(), gold.sort(), 'the shuffled labels are the repeats\' gold labels, permuted');
  assert.ok(units.some(([right, shuffled]) => right.icl.text !== shuffled.icl.text), 'some label changed');
  // a shard draws the same: the donor depends on the run seed and the number of repeats only
  assert.deepEqual(repeatUnits(conds, views, 4, 5, { repeats: R }), units[5]);
  assert.notDeepEqual(Array.from({ length: R }, (_, r) => labelDonor(5, R, r)), donors, 'another seed, another cycle');
  assert.throws(() => repeatUnits(conds, views, 4, 0, { repeats: 1 }), (e: unknown) => e instanceof IclitError && /needs at least 2 repeats/.test(e.message));
});

test('a plan with every control: the model\'s backend computes its conditions, the untrained backend only control:untrained; records say their control; a rerun computes nothing', () => {
  const plan = planOf(withControls(convergence(), [...CONTROL_NAMES]));
  const sink = memorySink();
  const a = runPlan(plan, trained, sink);
  assert.deepEqual(a, { computed: 3, skipped: 0, records: 9, computedRepeats: [0, 1, 2] });
  const b = runPlan(plan, untrained, sink);
  assert.deepEqual(b, { computed: 3, skipped: 0, records: 3, computedRepeats: [0, 1, 2] });
  const by = (name: string): RepeatRecord[] => sink.all.filter((r) => r.condition === name).sort((x, y) => x.repeat - y.repeat);
  for (const [name, control] of [['right-labels', null], ['control:untrained', 'untrained'], ['control:random-adapter', 'random-adapter'], ['control:shuffled-labels', 'shuffled-labels']] as const) {
    const rs = by(name);
    assert.deepEqual(rs.map((r) => r.repeat), [0, 1, 2], name);
    for (const r of rs) {
      assert.equal(r.model, 'tiny-llama', 'records keep the model label');
      assert.equal(recordCondition(r).control, control);
      assert.equal(r.extra.control, control ?? undefined);
    }
  }
  assert.equal(recordCondition(by('control:shuffled-labels')[0]).labels, 'shuffled');
  const right = by('right-labels');
  const random = by('control:random-adapter');
  const untrainedRecs = by('control:untrained');
  const last = right[0].layers.length - 1;
  right.forEach((r, i) => {
    // random-adapter: the same ICL read and the same tuning, the IT read through random directions
    assert.deepEqual(random[i].simAnchorIcl, r.simAnchorIcl);
    assert.equal(random[i].tuneLoss, r.tuneLoss);
    assert.ok(Math.abs(random[i].simAnchorIt[last] - r.simAnchorIt[last]) > 1e-6, `repeat ${i}: IT through random directions differs`);
    // untrained: the same prompts on another network
    assert.deepEqual(untrainedRecs[i].prompts, r.prompts);
    assert.ok(Math.abs(untrainedRecs[i].simAnchorIcl[last] - r.simAnchorIcl[last]) > 1e-6, `repeat ${i}: untrained reads differ`);
  });
  assert.deepEqual(runPlan(plan, trained, sink), { computed: 0, skipped: 3, records: 0, computedRepeats: [] });
  assert.deepEqual(runPlan(plan, untrained, sink), { computed: 0, skipped: 3, records: 0, computedRepeats: [] });
});

test('the estimate counts the controls: the untrained run is the first condition\'s passes once more (anchors included), the others one condition each', () => {
  const model = { encode: (t: string) => trained.encode(t), numLayers: 2, maxPositions: 1024, vocabSize: trained.model.config.vocabSize };
  const plain = planWorkByWeights(planOf(convergence()), model);
  const withAll = planWorkByWeights(planOf(withControls(convergence(), [...CONTROL_NAMES])), model);
  const steps = (ps: { kind: string }[]): number => ps.filter((p) => p.kind === 'step').length;
  assert.deepEqual(plain.untrained, []);
  assert.deepEqual(withAll.untrained, plain.trained, 'the untrained copy runs what the model runs for its first condition');
  assert.equal(steps(withAll.trained), 3 * steps(plain.trained), 'random-adapter and shuffled-labels tune like the first condition');
  assert.ok(withAll.trained.length > 2 * plain.trained.length);
});
