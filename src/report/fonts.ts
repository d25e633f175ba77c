// The font files figures are drawn with, and text widths read from them (TrueType cmap + hmtx) so Vega sizes figures to their content.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as vega from 'vega';

const FONT_DIRS = ['/usr/share/fonts', '/usr/local/share/fonts', '/Library/Fonts', '/System/Library/Fonts', 'C:\\Windows\\Fonts'];
const PREFERRED = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'LiberationSans-Regular.ttf', 'LiberationSans-Bold.ttf', 'Arial.ttf', 'arial.ttf'];

function findFiles(dir: string, names: Set<string>, out: string[], depth = 0): void {
  if (depth > 4 || !existsSync(dir)) return;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) findFiles(p, names, out, depth + 1);
    else if (names.has(e.name)) out.push(p);
  }
}

let fontCache: string[] | undefined;

/** Font files resvg should load explicitly (DejaVu/Liberation/Arial where installed; ICLIT_FONT adds one). */
export function fontFiles(): string[] {
  if (fontCache) return fontCache;
  const found: string[] = [];
  for (const d of FONT_DIRS) findFiles(d, new Set(PREFERRED), found);
  if (process.env.ICLIT_FONT && existsSync(process.env.ICLIT_FONT)) found.unshift(process.env.ICLIT_FONT);
  fontCache = found;
  return found;
}

/** Advance widths of one TrueType font, in em. */
export interface FontMetrics {
  /** Advance of a code point (the missing-glyph advance when the font has no glyph for it). */
  advance(codePoint: number): number;
}

/** Reads the BMP cmap (format 4, Windows Unicode) and the horizontal metrics of a .ttf file. */
export function loadFontMetrics(path: string): FontMetrics {
  const f = readFileSync(path);
  const tables = new Map<string, number>();
  const numTables = f.readUInt16BE(4);
  for (let i = 0; i < numTables; i++) tables.set(f.toString('latin1', 12 + 16 * i, 16 + 16 * i), f.readUInt32BE(20 + 16 * i));
  const need = (tag: string): number => {
    const off = tables.get(tag);
    if (off === undefined) throw new Error(`${path}: no '${tag}' table`);
    return off;
  };
  const unitsPerEm = f.readUInt16BE(need('head') + 18);
  const numberOfHMetrics = f.readUInt16BE(need('hhea') + 34);
  const hmtx = need('hmtx');
  const advanceOfGlyph = (g: number) => f.readUInt16BE(hmtx + 4 * Math.min(g, numberOfHMetrics - 1)) / unitsPerEm;
  const cmap = need('cmap');
  let sub = -1;
  for (let i = 0; i < f.readUInt16BE(cmap + 2); i++) {
    const platform = f.readUInt16BE(cmap + 4 + 8 * i);
    const encoding = f.readUInt16BE(cmap + 6 + 8 * i);
    const off = cmap + f.readUInt32BE(cmap + 8 + 8 * i);
    if (f.readUInt16BE(off) === 4 && ((platform === 3 && encoding === 1) || platform === 0)) sub = off;
  }
  if (sub < 0) throw new Error(`${path}: no format-4 Unicode cmap`);
  const segX2 = f.readUInt16BE(sub + 6);
  const ends = sub + 14;
  const starts = ends + segX2 + 2;
  const deltas = starts + segX2;
  const ranges = deltas + segX2;
  const glyphOf = (cp: number): number => {
    if (cp > 0xffff) return 0;
    for (let s = 0; s < segX2; s += 2) {
      if (cp > f.readUInt16BE(ends + s)) continue;
      const start = f.readUInt16BE(starts + s);
      if (cp < start) return 0;
      const delta = f.readInt16BE(deltas + s);
      const rangeOffset = f.readUInt16BE(ranges + s);
      if (rangeOffset === 0) return (cp + delta) & 0xffff;
      const g = f.readUInt16BE(ranges + s + rangeOffset + 2 * (cp - start));
      return g === 0 ? 0 : (g + delta) & 0xffff;
    }
    return 0;
  };
  const cache = new Map<number, number>();
  return {
    advance(cp) {
      let a = cache.get(cp);
      if (a === undefined) cache.set(cp, (a = advanceOfGlyph(glyphOf(cp))));
      return a;
    },
  };
}

/** Width in px of `text` at `size` px (no kerning). */
export function textWidth(font: FontMetrics, text: string, size: number): number {
  let w = 0;
  for (const ch of text) w += font.advance(ch.codePointAt(0)!);
  return w * size;
}

let fonts: { regular: FontMetrics; bold: FontMetrics } | null | undefined;

/** The regular and bold fonts resvg draws with (same preference as svgToPng: DejaVu Sans, Liberation Sans, Arial); null when none is found. */
function drawingFonts(): { regular: FontMetrics; bold: FontMetrics } | null {
  if (fonts !== undefined) return fonts;
  const files = fontFiles();
  const pick = (...names: RegExp[]) => names.map((re) => files.find((p) => re.test(p))).find((p) => p !== undefined);
  const regularPath = pick(/DejaVuSans\.ttf$/, /LiberationSans-Regular\.ttf$/, /Arial\.ttf$/i);
  const boldPath = pick(/DejaVuSans-Bold\.ttf$/, /LiberationSans-Bold\.ttf$/);
  if (!regularPath) return (fonts = null);
  const regular = loadFontMetrics(regularPath);
  return (fonts = { regular, bold: boldPath ? loadFontMetrics(boldPath) : regular });
}

/** Width in px of `text` drawn at `size` px: measured from the font files, else estimated at 0.6 em per character. */
export function measureText(text: string, size: number, bold = false): number {
  const f = drawingFonts();
  return f ? textWidth(bold ? f.bold : f.regular, text, size) : 0.6 * size * [...text].length;
}

let installed: boolean | undefined;

/**
 * Makes Vega measure text with the regular and bold fonts resvg draws with (instead of its estimate of 0.8 em per
 * character, which leaves wide empty margins beside titles, legends and labels). Returns false, changing nothing,
 * when no such font file is found.
 */
export function installTextMetrics(): boolean {
  if (installed !== undefined) return installed;
  if (!drawingFonts()) return (installed = false);
  type TextItem = { fontSize?: number | string; fontWeight?: string | number; limit?: number };
  // vega re-exports vega-scenegraph's mutable textMetrics (its typings omit it); a custom width is supported there.
  const metrics = (vega as unknown as { textMetrics: { width: (item: TextItem, text: unknown) => number } }).textMetrics;
  metrics.width = (item, text) => {
    const s = text === null || text === undefined ? '' : String(text).trim();
    const size = item.fontSize !== undefined && item.fontSize !== null ? Number(item.fontSize) || 0 : 11;
    const w = Number(item.fontWeight);
    const isBold = item.fontWeight === 'bold' || item.fontWeight === 'bolder' || w >= 600;
    const width = measureText(s, size, isBold);
    return item.limit !== undefined && item.limit > 0 ? Math.min(width, item.limit) : width;
  };
  return (installed = true);
}
