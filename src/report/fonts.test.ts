// Tests for the font metrics the figures are sized with: widths read from the font file match the width resvg draws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fontFiles, installTextMetrics, measureText } from './fonts.js';
import { svgToPng } from './render.js';
import { decodePng, emptyMargins } from './png-testing.js';

/** Width in px of what resvg draws for `text` (bounding box of dark pixels at 96 dpi = 1 px per unit). */
function drawnWidth(text: string, size: number, bold: boolean): number {
  const w = 900;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="60"><text x="10" y="40" font-family="DejaVu Sans" font-size="${size}"${bold ? ' font-weight="bold"' : ''}>${text}</text></svg>`;
  const img = decodePng(svgToPng(svg, 96));
  const m = emptyMargins(img);
  return img.width - m.left - m.right;
}

test('measured text widths match what resvg draws (regular and bold, within 4 px)', (t) => {
  if (!fontFiles().some((f) => /DejaVuSans\.ttf$/.test(f))) return void t.skip('needs DejaVu Sans (apt-get install fonts-dejavu-core)');
  for (const [text, size, bold] of [['Hello world', 20, false], ['s(ICL,IT) over the number of demonstrations', 13, true], ['bin=9', 11, false], ['WWW iii', 30, false]] as const) {
    const drawn = drawnWidth(text, size, bold);
    const measured = measureText(text, size, bold);
    // The advance includes the side bearings of the first and last glyph, which the ink box does not.
    assert.ok(Math.abs(measured - drawn) <= 4, `${JSON.stringify(text)} at ${size}px: measured ${measured.toFixed(1)} vs drawn ${drawn}`);
  }
  assert.ok(measureText('iiii', 20) < measureText('WWWW', 20) / 2, 'proportional widths, not one estimate per character');
  assert.equal(installTextMetrics(), true);
});
