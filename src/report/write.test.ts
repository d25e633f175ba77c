// Tests for writeReport: every file written, self-contained HTML, Markdown PNG links that exist, summary.json = summarize(runs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IclitError } from '../util/errors.js';
import { CLAIMS } from './paper.js';
import { summarize } from './summary.js';
import { makeRecord, syntheticRecords, syntheticRun } from './synthetic.js';
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

test('report.md and report.html open with Findings (a row per claim and run, verdicts, robustness) and end with the provenance appendix', async (t) => {
  const dir = tmp(t);
  const a = syntheticRun({ model: 'llama-a', seed: 1, repeats: 12 });
  const b = syntheticRun({ model: 'llama-b', seed: 2, repeats: 6, experiments: ['convergence', 'shots'] });
  const input: ReportRun[] = [
    { label: 'llama-a', meta: { model: '/models/a', configHash: 'abc123', results: 'x: /r/a; y: /r/b' }, records: a.records, states: a.states },
    { label: 'llama-b', meta: { model: '/models/b', configHash: 'abc123' }, records: b.records, states: b.states },
  ];
  const w = await writeReport(input, dir, { generatedAt: '2026-01-01T00:00:00Z' });
  const md = readFileSync(w.markdown, 'utf8');
  const h2 = [...md.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
  assert.equal(h2[0], 'Findings');
  assert.equal(h2[h2.length - 1], 'Appendix: what produced this report');
  const findings = md.slice(md.indexOf('## Findings'), md.indexOf('\n## ', md.indexOf('## Findings') + 3));
  // the claims' table, then (### …) the rows per measure of "Is ICL implicit IT here?"
  const [claimsPart, controlsPart] = findings.split('\n### ');
  const rows = claimsPart.split('\n').filter((l) => /^\| /.test(l)).slice(2); // past the header and --- lines
  assert.equal(controlsPart.split('\n').filter((l) => /^\| /.test(l)).slice(2).length, 2 * 5, 'five measures per run');
  // every claim of the paper once per run, except: the second model (llama-b) plays the paper's 13B, so Fig. 3a's three
  // rows are about llama-a only and Fig. 8a's one row about llama-b only
  const fig3a = CLAIMS.filter((c) => c.figure === 'Fig. 3a').length;
  assert.equal(rows.length, 2 * CLAIMS.length - fig3a - 1);
  assert.ok(rows.some((r) => /\| llama-b \|/.test(r) && /Fig\. 8a/.test(r)), 'the Fig. 8a row of the second model');
  assert.ok(rows.some((r) => /\| llama-a \| median s\(anchor,ICL\)/.test(r) && /\| (replicates|does-not-replicate|inconclusive) \(/.test(r)), 'a Fig. 3a row with its verdict and reason');
  assert.ok(rows.some((r) => /\| llama-b \| not run: this run has no wrong-label records/.test(r)));
  assert.match(findings, /s\(ICL,IT\) ≈ 0\.9/, "the paper's numbers beside the run's");
  assert.match(findings, /llama-a: \d+ tests were run\. p \(Holm\) adjusts within families .*: the \d+ tests behind the findings are one family; .* the other \d+ tests in the per-preset tables/);
  assert.match(findings, /\| (replicates|does-not-replicate|inconclusive) \|/, 'robustness re-checks carry verdicts');
  const html = readFileSync(w.html, 'utf8');
  const order = ['<h2>Findings</h2>', 'class="findings"', '<figure', 'id="appendix"', '<dl>'].map((x) => html.indexOf(x));
  assert.ok(order.every((i, k) => i > 0 && (k === 0 || i > order[k - 1])), `sections out of order: ${order}`);
  assert.match(html, /<dt>configHash<\/dt><dd>abc123<\/dd>/);
  assert.match(html, /<dt>results<\/dt><dd><ul><li>x: \/r\/a<\/li><li>y: \/r\/b<\/li><\/ul><\/dd>/, 'merged values as a list');
  assert.match(html, /massive dimensions \(mean \|value\| ≥ 100 × median/);
  const json = JSON.parse(readFileSync(w.summaryJson, 'utf8')) as ReturnType<typeof summarize>;
  assert.equal(json.format, 2);
  assert.ok(json.runs[0].experiments[0].conditions[0].last.centred !== null);
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
  assert.deepEqual(w3.emptyFigures, ['accuracy'], 'both panels (accuracy bars, boxes) have no data');
  const h3 = readFileSync(w3.html, 'utf8');
  assert.match(h3, /no data: no accuracy values/);
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
  assert.deepEqual(w.figureFiles.filter((f) => f.endsWith('.svg')).map((f) => f.slice(dir.length + 1)).sort(), ['figures/my_exp-2.svg', 'figures/my_exp.svg']);
});
