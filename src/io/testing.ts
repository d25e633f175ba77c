// Test helpers for hostile checkpoints: a safetensors file split into its parsed header and data bytes, and one written back with no checks.
import { readFileSync, writeFileSync } from 'node:fs';

/** One tensor's header entry as the file states it (tests edit these to make a file lie). */
export type HeaderEntry = { dtype: string; shape: number[]; data_offsets: [number, number] };
/** A safetensors header as parsed, tensors and `__metadata__` alike. */
export type RawHeader = Record<string, HeaderEntry | Record<string, string>>;

/** Splits a safetensors file into its parsed header (typed as the test declares it) and its data section. */
export function safetensorsParts<H = RawHeader>(path: string): { header: H; data: Buffer } {
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  return { header: JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as H, data: bytes.subarray(8 + n) };
}

/** Writes a safetensors file from header text and data bytes (no checks: this is how a hostile file is made). */
export function forgeSafetensors(path: string, headerText: string, data: Buffer): void {
  const h = Buffer.from(headerText, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  writeFileSync(path, Buffer.concat([len, h, data]));
}
