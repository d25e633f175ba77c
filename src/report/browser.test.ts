// Browser test: report.html from disk in headless Debian Chromium (playwright-core): Findings on the first screen, every figure drawn, offline, no console errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../util/paths.js';
import { makeRecord, syntheticRecords, syntheticRun } from './synthetic.js';
import { writeReport } from './write.js';
import type { ReportRun } from './types.js';
import { tempDir } from '../util/testing.js';

const CHROMIUM = process.env.ICLIT_CHROMIUM ?? '/usr/bin/chromium';

/** Two models side by side: one with every preset, one with a few, a single-repeat preset and a no-data figure. */
function syntheticRuns(): ReportRun[] {
  const partial = [
    ...syntheticRecords({ model: 'llama-b', seed: 9, repeats: 6, experiments: ['convergence', 'shots', 'layers', 'accuracy'] }).filter((r) => r.condition !== 'k=10'),
    makeRecord({ experiment: 'token-loss', condition: 'default', repeat: 0, model: 'llama-b', simIclIt: [NaN] }),
    // An experiment only this run has, with every similarity NaN: its figure is a "no data" one.
    makeRecord({ experiment: 'probe', condition: 'default', repeat: 0, model: 'llama-b', simAnchorIcl: [NaN], simAnchorIt: [NaN], simIclIt: [NaN] }),
  ];
  const a = syntheticRun({ model: 'llama-a', seed: 1, repeats: 12 });
  return [
    { label: 'llama-a', meta: { model: '/models/llama-a', data: 'sst2/train.tsv', configHash: 'c0ffee', seed: 1, iclitVersion: '0.1.0', wallSeconds: 321 }, records: a.records, states: a.states },
    { label: 'llama-b', meta: { model: '/models/llama-b', data: 'sst2/train.tsv', configHash: 'c0ffee', seed: 1, iclitVersion: '0.1.0', wallSeconds: null }, records: partial },
  ];
}

test('report.html renders every figure in headless Chromium (file://, offline, no console errors)', { timeout: 180_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`needs Chromium at ${CHROMIUM} (apt-get install chromium, or set ICLIT_CHROMIUM to its path)`);
    return;
  }
  const { chromium } = await import('playwright-core');
  const dir = tempDir(t, 'iclit-browser-');
  const written = await writeReport(syntheticRuns(), join(dir, 'report'));
  const expectedFigures = written.figureFiles.length / 2;
  assert.equal(expectedFigures, 13, "one combined figure per experiment (ten presets and the probe), and the paper's Fig. 3 and Fig. 8");
  assert.ok(written.emptyFigures.length >= 1, 'the test data should include a "no data" figure');

  const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1400, height: 1000 },
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const errors: string[] = [];
    const external: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      external.push(url);
      return route.abort();
    });
    await page.goto(pathToFileURL(written.html).href, { waitUntil: 'load' });
    const figures = await page.$$eval('figure.figure', (els) =>
      els.map((el) => {
        const svg = el.querySelector('svg');
        const box = svg?.getBoundingClientRect();
        const marks = svg ? svg.querySelectorAll('g.role-mark > *, g[class*="role-mark"] path, g[class*="role-mark"] rect, g[class*="role-mark"] text, g[class*="role-mark"] line').length : 0;
        const texts = svg ? [...svg.querySelectorAll('text')].map((x) => x.textContent ?? '').join(' ') : '';
        return { id: el.getAttribute('data-figure'), width: box?.width ?? 0, height: box?.height ?? 0, marks, noData: el.classList.contains('figure-nodata'), texts };
      }),
    );
    assert.equal(figures.length, expectedFigures);
    for (const f of figures) {
      assert.ok(f.width > 50 && f.height > 30, `${f.id}: svg is ${f.width}×${f.height}`);
      assert.ok(f.marks > 0, `${f.id}: no marks drawn`);
      assert.match(f.texts, /n=\d+|no data: /, `${f.id}: no n and no "no data" message`);
      if (f.noData) assert.match(f.texts, /no data: /, `${f.id}`);
    }
    for (const id of ['convergence', 'demo-similarity', 'shots', 'layers', 'accuracy', 'token-loss']) {
      assert.ok(figures.some((f) => f.id === id && !f.noData), `no drawn ${id} figure`);
    }
    const headline = await page.textContent('h1');
    assert.equal(headline, 'iclit report');
    // Findings first: its heading and the first rows of its table lie inside the first 1400×1000 viewport.
    const first = await page.evaluate(() => {
      const h2 = [...document.querySelectorAll('h2')];
      const table = document.querySelector('table.findings');
      const rows = table ? [...table.querySelectorAll('tbody tr')] : [];
      const visible = rows.filter((r) => r.getBoundingClientRect().bottom <= window.innerHeight).length;
      return {
        firstH2: h2[0]?.textContent ?? '',
        lastH2: h2[h2.length - 1]?.textContent ?? '',
        headingTop: h2[0]?.getBoundingClientRect().top ?? Infinity,
        tableTop: table?.getBoundingClientRect().top ?? Infinity,
        visibleRows: visible,
        verdicts: rows.slice(0, visible).map((r) => r.textContent ?? '').filter((x) => /replicates|does-not-replicate|inconclusive|not run/.test(x)).length,
      };
    });
    assert.equal(first.firstH2, 'Findings');
    assert.match(first.lastH2, /^Appendix/);
    assert.ok(first.headingTop < 1000 && first.tableTop < 1000, `Findings start at ${first.headingTop}px, its table at ${first.tableTop}px`);
    assert.ok(first.visibleRows >= 3 && first.verdicts >= 3, `${first.visibleRows} Findings rows (${first.verdicts} with a verdict) in the first screen`);
    assert.deepEqual(errors, [], `console errors: ${errors.join(' | ')}`);
    assert.deepEqual(external, [], `external requests: ${external.join(', ')}`);
    const artifacts = join(repoRoot(), 'test-artifacts');
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'report-browser-first-screen.png') });
    await page.screenshot({ path: join(artifacts, 'report-browser.png'), fullPage: true });
    for (const f of ['report-browser.png', 'report-browser-first-screen.png']) assert.ok(existsSync(join(artifacts, f)), f);
  } finally {
    await context.close();
  }
});
