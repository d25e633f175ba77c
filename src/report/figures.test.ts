// Tests for the figure panels, the combined per-preset figures and rendering: marks drawn, "no data" in place, 300-dpi PNGs without empty margins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Resvg } from '@resvg/resvg-js';
import type { RepeatRecord } from '../experiments/record.js';
import { decodePng, emptyMargins } from './png-testing.js';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { allFigures, panelsFor, presetFigure } from './figures.js';
import { binLines, layerLines, shotsLine, similarityBoxes } from './figures-similarity.js';
import { accuracyBars, tokenLossBoxes } from './figures-outcomes.js';
import type { Figure } from './figure-spec.js';
import { crc32, renderSvg, svgToPng, withDpi } from './render.js';
import { fontFiles } from './fonts.js';
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

test('one combined figure per preset: lettered panels, the paper\'s figure number in title and caption, every panel drawn', async () => {
  const runs = [run(syntheticRecords({ seed: 2, repeats: 6 }))];
  const groups = allFigures(runs);
  assert.deepEqual(groups.map((g) => g.figures.length), groups.map(() => 1));
  // the paper's combined figures (Fig. 3, Fig. 8) come first; their own test is below
  const byExp = Object.fromEntries(groups.filter((g) => !g.experiment.startsWith('Fig. ')).map((g) => [g.experiment, g.figures[0]]));
  assert.deepEqual(byExp.shots.kinds, ['shots', 'boxes']);
  assert.deepEqual(byExp['demo-similarity'].kinds, ['bins', 'boxes']);
  assert.deepEqual(byExp.layers.kinds, ['layers', 'boxes']);
  assert.deepEqual(byExp.accuracy.kinds, ['accuracy', 'boxes']);
  assert.deepEqual(byExp['token-loss'].kinds, ['token-loss', 'boxes']);
  assert.deepEqual(byExp.convergence.kinds, ['boxes']);
  const figureNo: Record<string, string> = { convergence: 'Fig. 3a', 'wrong-label': 'Fig. 3b', 'cross-task': 'Fig. 3c', 'demo-similarity': 'Fig. 4a, Fig. 4b, Fig. 4c', shots: 'Fig. 5', accuracy: 'Fig. 6', layers: 'Fig. 7', sl: 'Fig. 8b', translation: 'Fig. 8c', 'token-loss': 'Fig. 10' };
  for (const [exp, no] of Object.entries(figureNo)) {
    assert.ok(byExp[exp].caption.startsWith(`Cf. the paper's ${no}.`), `${exp}: ${byExp[exp].caption}`);
    assert.ok(byExp[exp].title.includes(no), exp);
  }
  for (const f of Object.values(byExp)) {
    assert.equal(f.noData, null, `${f.id}: ${f.noData}`);
    const svg = await assertRenders(f);
    assert.match(svg, /role-axis-title/, `${f.id}: axis titles`);
    assert.match(svg, /n=\d+/, `${f.id}: n`);
    if (f.kinds.length > 1) {
      assert.match(svg, /\(a\) /, `${f.id}: panel (a)`);
      assert.match(svg, /\(b\) /, `${f.id}: panel (b)`);
    }
  }
  assert.match(byExp.accuracy.caption, /ICL p=\d/);
});

test('figure PNGs are 300 dpi and have no large empty margins (decoded PNG, bounding box of non-white pixels)', async () => {
  const runs = [run(syntheticRecords({ seed: 3, repeats: 5 }), 'model-a'), run(syntheticRecords({ seed: 4, repeats: 5, experiments: ['shots', 'layers'] }), 'model-b')];
  for (const g of allFigures(runs)) {
    const f = g.figures[0];
    const svg = await renderSvg(f.spec, f.id);
    const img = decodePng(svgToPng(svg));
    const [w, h] = [/width="(\d+(?:\.\d+)?)"/, /height="(\d+(?:\.\d+)?)"/].map((re) => Number(re.exec(svg)![1]));
    assert.ok(Math.abs(img.width - (w * 300) / 96) <= 1 && Math.abs(img.height - (h * 300) / 96) <= 1, `${f.id}: ${img.width}×${img.height} for ${w}×${h} px`);
    assert.equal(img.pixelsPerMetre, 11811, `${f.id}: pHYs says 300 dpi`);
    const m = emptyMargins(img);
    // Vega pads 4 CSS px: at 300 dpi that is 12.5 px; allow a little for anti-aliasing and glyph side bearings.
    for (const [side, px] of Object.entries(m)) assert.ok(px <= 40, `${f.id}: ${px} empty pixels at the ${side}`);
  }
});

test('crc32 matches zlib; withDpi keeps the image and replaces an existing pHYs', async () => {
  for (const s of ['', 'IHDR', 'The quick brown fox']) assert.equal(crc32(Buffer.from(s)), zlibCrc32(Buffer.from(s)));
  const svg = await renderSvg(similarityBoxes([run([])], 'convergence').spec);
  const png = svgToPng(svg, 150);
  const again = withDpi(png, 600);
  assert.equal(again.toString('latin1').split('pHYs').length - 1, 1, 'one pHYs chunk');
  const [a, b] = [decodePng(png), decodePng(again)];
  assert.deepEqual([a.pixelsPerMetre, b.pixelsPerMetre], [5906, 23622]);
  assert.deepEqual([b.width, b.height], [a.width, a.height]);
  assert.ok(Buffer.from(a.pixels).equals(Buffer.from(b.pixels)));
});

test('two runs side by side: one panel per run, a run without data gets a "no data" panel', async () => {
  const a = run(syntheticRecords({ seed: 1, repeats: 4, model: 'a' }), 'model-a');
  const b_ = () => run(syntheticRecords({ seed: 2, repeats: 4, model: 'b', experiments: ['convergence'] }), 'model-b');
  const b = b_();
  const f = similarityBoxes([a, b], 'shots');
  assert.deepEqual(f.kinds, ['boxes']);
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

test('a preset whose records lack its values gets its panel as "no data" rather than a blank one', async () => {
  const recs = [makeRecord({ experiment: 'accuracy', condition: 'right-labels', repeat: 0 })];
  const panels = panelsFor([run(recs)], 'accuracy');
  assert.deepEqual(panels.map((f) => f.kinds[0]), ['accuracy', 'boxes']);
  assert.match(panels[0].noData ?? '', /no accuracy values/);
  const combined = presetFigure([run(recs)], 'accuracy');
  assert.equal(combined.noData, null, 'the box panel has data');
  assert.ok(combined.notes.some((n) => /no accuracy values/.test(n)), combined.notes.join('|'));
  assert.match(await renderSvg(combined.spec), /no data: no accuracy values/);
  const nan = [makeRecord({ experiment: 'token-loss', condition: 'default', repeat: 0, simAnchorIcl: [NaN], simAnchorIt: [NaN], simIclIt: [NaN] })];
  const tl = presetFigure([run(nan)], 'token-loss');
  assert.deepEqual(tl.kinds, ['token-loss']);
  assert.match(tl.noData ?? '', /no per-token loss values/);
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
  const png = svgToPng(svg, 96);
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

test("the paper's combined figures: Fig. 3 (a convergence, b wrong labels, c cross-task) and Fig. 8 (a the second model, b SL, c translation), drawn before the per-preset figures", async () => {
  const a = run(syntheticRecords({ model: 'llama-7b', seed: 2, repeats: 5 }), 'llama-7b');
  const b = run(syntheticRecords({ model: 'llama-13b', seed: 3, repeats: 5, experiments: ['convergence'] }), 'llama-13b');
  const groups = allFigures([a, b]);
  assert.deepEqual(groups.slice(0, 2).map((g) => g.experiment), ['Fig. 3', 'Fig. 8']);
  const [fig3, fig8] = [groups[0].figures[0], groups[1].figures[0]];
  assert.deepEqual(fig3.kinds, ['boxes', 'boxes', 'boxes']);
  assert.match(fig3.caption, /\(a\) right labels .*\(b\) wrong labels .*\(c\) EN→CS demonstrations/);
  assert.match(fig8.caption, /\(a\) the second model .*\(b\) supervised learning.*\(c\) EN→CS translation/);
  const fig8a = (fig8.spec.vconcat as { title: { text: string } }[])[0];
  assert.match(fig8a.title.text, /^\(a\) the second model/);
  await assertRenders(fig3);
  await assertRenders(fig8);
  // one model: no second model, so Fig. 8 has panels b and c and names the missing one
  const one = allFigures([a]).find((g) => g.experiment === 'Fig. 8')!.figures[0];
  assert.deepEqual(one.kinds, ['boxes', 'boxes']);
  assert.match(one.notes[0], /\(a\) the second model .*no convergence records of a second model/);
});
