// Test support: decodes the PNGs the report writes (8-bit RGB/RGBA, not interlaced) and measures their empty margins.
import { inflateSync } from 'node:zlib';

export interface DecodedPng {
  width: number;
  height: number;
  /** RGBA, row-major. */
  pixels: Uint8Array;
  /** pHYs pixels per metre (x), or null when the PNG has no pHYs chunk. */
  pixelsPerMetre: number | null;
}

/** Decodes a PNG as resvg writes it (colour type 6 or 2, bit depth 8, no interlace), undoing the five row filters. */
export function decodePng(png: Buffer): DecodedPng {
  if (png.toString('latin1', 1, 4) !== 'PNG') throw new Error('not a PNG');
  let off = 8;
  let width = 0, height = 0, colourType = 0, ppm: number | null = null;
  const idat: Buffer[] = [];
  while (off < png.length) {
    const len = png.readUInt32BE(off);
    const type = png.toString('latin1', off + 4, off + 8);
    const body = png.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      if (body[8] !== 8 || body[12] !== 0) throw new Error('only 8-bit, non-interlaced PNGs');
      colourType = body[9];
    } else if (type === 'pHYs') ppm = body.readUInt32BE(0);
    else if (type === 'IDAT') idat.push(body);
    off += 12 + len;
  }
  const channels = colourType === 6 ? 4 : colourType === 2 ? 3 : 0;
  if (!channels) throw new Error(`colour type ${colourType} not supported`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = new Uint8Array(width * height * 4);
  let prev = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const cur = new Uint8Array(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? cur[i - channels] : 0;
      const b = prev[i];
      const c = i >= channels ? prev[i - channels] : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const pred = [0, a, b, (a + b) >> 1, paeth][filter];
      cur[i] = (line[i] + pred) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      for (let k = 0; k < 3; k++) out[(y * width + x) * 4 + k] = cur[x * channels + k];
      out[(y * width + x) * 4 + 3] = channels === 4 ? cur[x * channels + 3] : 255;
    }
    prev = cur;
  }
  return { width, height, pixels: out, pixelsPerMetre: ppm };
}

/** Pixels between each edge and the nearest pixel that differs from white (or is not opaque). */
export function emptyMargins(img: DecodedPng): { top: number; right: number; bottom: number; left: number } {
  let minX = img.width, minY = img.height, maxX = -1, maxY = -1;
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < img.width; x++) {
      const i = (y * img.width + x) * 4;
      const px = img.pixels;
      if (px[i] < 250 || px[i + 1] < 250 || px[i + 2] < 250) {
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
      }
    }
  if (maxX < 0) return { top: img.height, right: img.width, bottom: img.height, left: img.width };
  return { top: minY, right: img.width - 1 - maxX, bottom: img.height - 1 - maxY, left: minX };
}
