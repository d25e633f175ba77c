// Tests for writeReport: every file written, self-contained HTML, Markdown PNG links that exist, summary.json = summarize(runs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IclitError } from '../util/errors.js';
import { summarize } from './summary.js';
import { makeRecord, syntheticRecords } from './synthetic.js';
import { toJson, writeReport } from './write.js';
import type { ReportRun } from './types.js';
import { tempDir } from '../util/testing.js';

function tmp(t: { after(fn: () => void): void }): string {
  const d = tempDir(t, 'iclit-report-');
  return d;
}

const runs = (): ReportRun[] => [
  { label: 'llama-a', meta: { model: '/models/a', data: 'sst2/train.tsv', configHash: 'abc123', seed: 1 }, records: syntheticRecords({ model: 'llama-a', seed: 1, repeats: 5 }) },
  { label: 'llama-b', meta: { model: '/models/b', data: 'sst2/train.tsv', configHash: 'abc123', seed: 1 }, records: syntheticRecords({ model: 'llama-b', seed: 2, repeats: 5, experiments: ['convergence', 'shots'] }) },
];

test('writeReport writes html, md, summary.json and every figure as svg+png; html is self-contained', async (t) => {
  const dir = tmp(t);
  const input = runs();
  const w = await writeReport(input, dir, { generatedAt: '2026-01-01T00:00:00Z' });
  for (const f of [w.html, w.markdown, w.summaryJson, ...w.figureFiles]) assert.ok(existsSync(f), f);
  const html = readFileSync(w.html, 'utf8');
  // Offline: no external URL, script, stylesheet link or image source.
  assert.doesNotMatch(html, /https?:\/\//);
  assert.doesNotMatch(html, /<script|<link|<img|src=/i);
  const svgs = html.match(/<svg[\s>]/g) ?? [];
  assert.equal(svgs.length, w.figureFiles.length / 2);
  // States what produced it, runs side by side.
  for (const s of ['/models/a', '/models/b', 'sst2/train.tsv', 'abc123', 'llama-a', 'llama-b', '2026-01-01T00:00:00Z']) assert.ok(html.includes(s), s);
  const md = readFileSync(w.markdown, 'utf8');
  const links = [...md.matchAll(/\]\((figures\/[^)]+\.png)\)/g)].map((m) => m[1]);
  assert.equal(links.length, w.figureFiles.length / 2);
  for (const l of links) assert.ok(existsSync(join(dir, l)), l);
  assert.match(md, /\| llama-a \| right-labels \| 5 \|/);
  // llama-b has no 'layers' experiment: the layers table says so in place.
  assert.match(md, /\| llama-b \| no data: this run has no records of this experiment/);
  const json = readFileSync(w.summaryJson, 'utf8');
  assert.equal(json, toJson(summarize(input)));
  const parsed = JSON.parse(json) as ReturnType<typeof summarize>;
  assert.equal(parsed.runs[0].meta.configHash, 'abc123');
  const png = readFileSync(w.figureFiles.find((f) => f.endsWith('.png'))!);
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
});

test('writeReport with no records, an empty run or all-NaN data says "no data" instead of failing', async (t) => {
  const dir = tmp(t);
  const w = await writeReport([{ label: 'empty', meta: { model: 'x' }, records: [] }], join(dir, 'a'));
  const html = readFileSync(w.html, 'utf8');
  assert.match(html, /no data: the results hold no finished repeats/);
  assert.match(readFileSync(w.markdown, 'utf8'), /no data: the results hold no finished repeats/);
  const none = await writeReport([], join(dir, 'b'));
  assert.match(readFileSync(none.html, 'utf8'), /no data: no results folders were given/);
  const nan = [makeRecord({ experiment: 'accuracy', condition: 'right-labels', repeat: 0, simAnchorIcl: [NaN], simAnchorIt: [NaN], simIclIt: [NaN] })];
  const w3 = await writeReport([{ label: 'nan', meta: {}, records: nan }], join(dir, 'c'));
  assert.deepEqual(w3.emptyFigures, ['accuracy-accuracy']);
  const h3 = readFileSync(w3.html, 'utf8');
  assert.match(h3, /class="nodata">no data: no accuracy values/);
  assert.match(h3, /no data \(1 NaN\)/);
});

test('writeReport rejects two runs with one label', async (t) => {
  const dir = tmp(t);
  const r = runs();
  await assert.rejects(writeReport([r[0], { ...r[1], label: 'llama-a' }], dir), (e: unknown) => e instanceof IclitError && /two runs share the label 'llama-a'/.test(e.message));
});

test('writeReport keeps figure files distinct when experiment names collide after making them file-safe', async (t) => {
  const dir = tmp(t);
  const recs = [makeRecord({ experiment: 'my exp', condition: 'c', repeat: 0 }), makeRecord({ experiment: 'my/exp', condition: 'c', repeat: 0 })];
  const w = await writeReport([{ label: 'x', meta: {}, records: recs }], dir);
  assert.deepEqual(w.figureFiles.filter((f) => f.endsWith('.svg')).map((f) => f.slice(dir.length + 1)).sort(), ['figures/my_exp-boxes-2.svg', 'figures/my_exp-boxes.svg']);
});
