// Rendering: Vega-Lite spec → Vega → SVG (headless, renderer 'none') → PNG through resvg with system font files.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as vl from 'vega-lite';
import * as vega from 'vega';
import { Resvg } from '@resvg/resvg-js';
import { IclitError } from '../util/errors.js';
import type { VegaLiteSpec } from './figures.js';

/** Compiles a Vega-Lite spec and renders it to an SVG string. Throws IclitError naming `id` if Vega rejects it. */
export async function renderSvg(spec: VegaLiteSpec, id = 'figure'): Promise<string> {
  let view: vega.View | undefined;
  try {
    // Vega-Lite's warnings (e.g. about faceted independent scales) are not the user's business: log errors only.
    const logger = vega.logger(vega.Error);
    const compiled = vl.compile(spec as unknown as Parameters<typeof vl.compile>[0], { logger }).spec;
    view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
    return await view.toSVG();
  } catch (e) {
    throw new IclitError(`figure ${id}: cannot render its Vega-Lite spec: ${(e as Error).message.split('\n')[0]}`);
  } finally {
    view?.finalize();
  }
}

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

/** Rasterises an SVG to PNG at `scale`× (text drawn with the fonts above; system fonts as the fallback). */
export function svgToPng(svg: string, scale = 2): Buffer {
  const files = fontFiles();
  const family = files.some((f) => /DejaVuSans/.test(f)) ? 'DejaVu Sans' : files.some((f) => /Liberation/.test(f)) ? 'Liberation Sans' : undefined;
  const resvg = new Resvg(svg, {
    font: { fontFiles: files, loadSystemFonts: files.length === 0, ...(family ? { defaultFontFamily: family, sansSerifFamily: family } : {}) },
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
  });
  return resvg.render().asPng();
}
