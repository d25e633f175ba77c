// Rendering: Vega-Lite spec → Vega → SVG (headless, renderer 'none') → PNG at 300 dpi through resvg with system font files.
import * as vl from 'vega-lite';
import * as vega from 'vega';
import { Resvg } from '@resvg/resvg-js';
import { IclitError } from '../util/errors.js';
import { fontFiles, installTextMetrics } from './fonts.js';
import type { VegaLiteSpec } from './figure-spec.js';

/** Compiles a Vega-Lite spec and renders it to an SVG string. Throws IclitError naming `id` if Vega rejects it. */
export async function renderSvg(spec: VegaLiteSpec, id = 'figure'): Promise<string> {
  let view: vega.View | undefined;
  installTextMetrics();
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

/** Print resolution of the PNGs: SVG user units are CSS pixels (96 per inch), so 300 dpi is a zoom of 300/96. */
export const PNG_DPI = 300;

/** Rasterises an SVG to PNG at `dpi` (text drawn with the fonts above; system fonts as the fallback), resolution recorded in a pHYs chunk. */
export function svgToPng(svg: string, dpi = PNG_DPI): Buffer {
  const files = fontFiles();
  const family = files.some((f) => /DejaVuSans/.test(f)) ? 'DejaVu Sans' : files.some((f) => /Liberation/.test(f)) ? 'Liberation Sans' : undefined;
  const resvg = new Resvg(svg, {
    font: { fontFiles: files, loadSystemFonts: files.length === 0, ...(family ? { defaultFontFamily: family, sansSerifFamily: family } : {}) },
    fitTo: { mode: 'zoom', value: dpi / 96 },
    background: 'white',
  });
  return withDpi(resvg.render().asPng(), dpi);
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (ISO 3309, as PNG chunks use it). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The PNG with a pHYs chunk (pixels per metre, both axes) after IHDR, replacing any pHYs it had. */
export function withDpi(png: Buffer, dpi: number): Buffer {
  const ppm = Math.round(dpi / 0.0254);
  const chunks: Buffer[] = [png.subarray(0, 8)];
  let off = 8;
  while (off < png.length) {
    const len = png.readUInt32BE(off);
    const type = png.toString('latin1', off + 4, off + 8);
    const end = off + 12 + len;
    if (type !== 'pHYs') chunks.push(png.subarray(off, end));
    if (type === 'IHDR') {
      const body = Buffer.alloc(13);
      body.write('pHYs', 0, 'latin1');
      body.writeUInt32BE(ppm, 4);
      body.writeUInt32BE(ppm, 8);
      body[12] = 1; // unit: metre
      const chunk = Buffer.alloc(21);
      chunk.writeUInt32BE(9, 0);
      body.copy(chunk, 4);
      chunk.writeUInt32BE(crc32(body), 17);
      chunks.push(chunk);
    }
    off = end;
  }
  return Buffer.concat(chunks);
}
