// Tests for the figure builders and rendering: every figure renders with marks; empty/partial data says "no data" in place; PNGs carry text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Resvg } from '@resvg/resvg-js';
import type { RepeatRecord } from '../experiments/record.js';
import { accuracyBars, allFigures, binLines, figuresFor, layerLines, shotsLine, similarityBoxes, tokenLossBoxes, type Figure } from './figures.js';
import { fontFiles, renderSvg, svgToPng } from './render.js';
import { makeRecord, syntheticRecords } from './synthetic.js';
import type { ReportRun } from './types.js';

const run = (records: RepeatRecord[], label = 'tiny'): ReportRun => ({ label, meta: { model: label }, records });

/** Marks vega drew: paths, lines, rects and texts inside mark groups (axes and titles included). */
function markCount(svg: string): number {
  return (svg.match(/class="mark-[a-z]+ role-mark/g) ?? []).length;
}

async function assertRenders(f: Figure): Promise<string> {
  const svg = await renderSvg(f.spec, f.id);
  assert.match(svg, /^<svg/, f.id);
  const m = /width="(\d+)" height="(\d+)"/.exec(svg);
  assert.ok(m && Number(m[1]) > 50 && Number(m[2]) > 30, `${f.id}: size ${m?.[1]}×${m?.[2]}`);
  assert.ok(markCount(svg) > 0, `${f.id}: no marks`);
  return svg;
}

test('every figure of a full synthetic run renders with data, titles and axis titles', async () => {
  const runs = [run(syntheticRecords({ seed: 2, repeats: 6 }))];
  const groups = allFigures(runs);
  const kinds = new Set(groups.flatMap((g) => g.figures.map((f) => f.kind)));
  assert.deepEqual([...kinds].sort(), ['accuracy', 'bins', 'boxes', 'layers', 'shots', 'token-loss']);
  for (const g of groups)
    for (const f of g.figures) {
      assert.equal(f.noData, null, `${f.id}: ${f.noData}`);
      const svg = await assertRenders(f);
      assert.ok(svg.includes(f.title.slice(0, 20).replace(/&/g, '&amp;')), `${f.id}: title missing`);
      assert.match(svg, /role-axis-title/, `${f.id}: axis titles`);
      assert.match(svg, /n=\d+/, `${f.id}: n`);
    }
  const acc = groups.find((g) => g.experiment === 'accuracy')!.figures.find((f) => f.kind === 'accuracy')!;
  assert.match(JSON.stringify(acc.spec), /ICL p=\d/);
});

test('two runs side by side: one panel per run, a run without data gets a "no data" panel', async () => {
  const a = run(syntheticRecords({ seed: 1, repeats: 4, model: 'a' }), 'model-a');
  const b_ = () => run(syntheticRecords({ seed: 2, repeats: 4, model: 'b', experiments: ['convergence'] }), 'model-b');
  const b = b_();
  const f = similarityBoxes([a, b], 'shots');
  assert.equal(f.noData, null);
  const panels = (f.spec.hconcat as object[]) ?? [];
  assert.equal(panels.length, 2);
  const svg = await assertRenders(f);
  assert.match(svg, /model-a/);
  assert.match(svg, /no data: model-b has no/);
  // The shared y scale takes the first panel's height: a "no data" panel must not shrink the data panel.
  const flipped = similarityBoxes([b_(), a], 'shots');
  const svg2 = await renderSvg(flipped.spec, flipped.id);
  const alone = await renderSvg(similarityBoxes([a], 'shots').spec);
  const height = (x: string) => Number(/height="(\d+)"/.exec(x)![1]);
  assert.ok(height(svg2) >= height(alone), `data panel squeezed by the no-data panel: ${height(svg2)} < ${height(alone)}`);
});

test('no records → every builder returns a "no data" figure that still renders its message', async () => {
  const empty = [run([])];
  for (const f of [similarityBoxes(empty, 'convergence'), binLines(empty), shotsLine(empty), layerLines(empty), accuracyBars(empty), tokenLossBoxes(empty)]) {
    assert.match(f.noData ?? '', /^no data: /, f.id);
    const svg = await assertRenders(f);
    assert.ok(svg.includes('no data: '), `${f.id}: message not drawn`);
  }
  assert.deepEqual(allFigures(empty), []);
});

test('a preset whose records lack its values gets its figure as "no data" rather than a blank one', () => {
  const recs = [makeRecord({ experiment: 'accuracy', condition: 'right-labels', repeat: 0 })];
  const figs = figuresFor([run(recs)], 'accuracy');
  const acc = figs.find((f) => f.kind === 'accuracy')!;
  assert.match(acc.noData ?? '', /no accuracy values/);
  const tl = figuresFor([run([makeRecord({ experiment: 'token-loss', condition: 'default', repeat: 0, simAnchorIcl: [NaN], simAnchorIt: [NaN], simIclIt: [NaN] })])], 'token-loss');
  assert.deepEqual(tl.map((f) => f.kind), ['token-loss']);
  assert.match(tl[0].noData ?? '', /no per-token loss values/);
});

test('one repeat, missing conditions and NaN similarities render with notes', async () => {
  const recs: RepeatRecord[] = [
    makeRecord({ experiment: 'shots', condition: 'k=1', repeat: 0, extra: { shots: 1 } }),
    makeRecord({ experiment: 'shots', condition: 'k=5', repeat: 0, extra: { shots: 5 }, simIclIt: [NaN] }),
    makeRecord({ experiment: 'shots', condition: 'k=5', repeat: 1, extra: { shots: 5 } }),
    makeRecord({ experiment: 'demo-similarity', condition: 'bin=3', repeat: 0, extra: { bin: 3 } }),
    makeRecord({ experiment: 'layers', condition: 'default', repeat: 0, layers: [0, 1, 2], simAnchorIcl: [1, NaN, 0.5], simAnchorIt: [1, 0.9, 0.6], simIclIt: [1, 0.95, 0.8] }),
  ];
  const runs = [run(recs)];
  const boxes = similarityBoxes(runs, 'shots');
  assert.ok(boxes.notes.some((n) => /missing condition\(s\): k=2, k=10/.test(n)), boxes.notes.join('|'));
  assert.ok(boxes.notes.some((n) => /k=1: a single repeat/.test(n)));
  assert.ok(boxes.notes.some((n) => /k=5: 1 NaN/.test(n)));
  const shots = shotsLine(runs);
  assert.ok(shots.notes.some((n) => /no records for k = 2, 10/.test(n)));
  const bins = binLines(runs);
  assert.ok(bins.notes.some((n) => /no records for bin\(s\) 0, 1, 2, 4/.test(n)));
  const layers = layerLines(runs);
  assert.ok(layers.notes.some((n) => /single repeat/.test(n)));
  assert.ok(layers.notes.some((n) => /1 NaN/.test(n)));
  for (const f of [boxes, shots, bins, layers]) {
    assert.equal(f.noData, null, f.id);
    await assertRenders(f);
  }
  // all similarities NaN → no data
  const nan = [run([makeRecord({ experiment: 'convergence', condition: 'default', repeat: 0, simAnchorIcl: [NaN], simAnchorIt: [NaN], simIclIt: [NaN] })])];
  assert.match(similarityBoxes(nan, 'convergence').noData ?? '', /no finite similarity values/);
});

test('PNG rendering draws text (a text-only "no data" figure has dark-red text pixels) and uses found fonts', async () => {
  const f = similarityBoxes([run([])], 'convergence');
  const svg = await renderSvg(f.spec, f.id);
  const png = svgToPng(svg, 1);
  assert.deepEqual([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join(''), 'PNG');
  // Re-render to raw pixels and count text-coloured ones (#8a1c1c; the title is black, the frame light grey).
  const files = fontFiles();
  const img = new Resvg(svg, { font: { fontFiles: files, loadSystemFonts: files.length === 0 } }).render();
  const px = img.pixels; // a getter that copies: read it once
  let red = 0;
  let dark = 0;
  for (let i = 0; i < px.length; i += 4) {
    const [r, g, b] = [px[i], px[i + 1], px[i + 2]];
    if (r > 100 && g < 80 && b < 80) red++;
    if (r < 60 && g < 60 && b < 60 && px[i + 3] > 200) dark++;
  }
  assert.ok(red > 50, `message text not rendered (${red} red pixels)`);
  assert.ok(dark > 50, `title text not rendered (${dark} dark pixels)`);
});
