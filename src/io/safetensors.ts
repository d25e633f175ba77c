// The safetensors format: header parsing with validation, zero-copy memory-mapped reads, and writing.
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { MappedFile, elementBytes, type DType, type Tensor } from '../torch/index.js';
import { IclitError } from '../util/errors.js';
import { onPath } from '../util/fs.js';

const DTYPES: Record<string, DType> = {
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  F64: 'float64',
  I64: 'int64',
  I32: 'int32',
  U8: 'uint8',
  I8: 'int8',
  BOOL: 'bool',
};
const CODES: Record<DType, string> = Object.fromEntries(Object.entries(DTYPES).map(([k, v]) => [v, k])) as Record<DType, string>;

export interface TensorInfo {
  name: string;
  dtype: DType;
  shape: number[];
  /** Absolute byte offset of the tensor's data in the file. */
  byteOffset: number;
  byteLength: number;
}

export interface SafetensorsHeader {
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
}

// Refuse absurd headers before allocating for them (the format's own reference reader caps at 100 MB).
const MAX_HEADER = 100 * 1024 * 1024;

/** Reads and validates the header of a .safetensors file (only the header bytes are read). */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  return onPath(path, () => readHeader(path));
}

function readHeader(path: string): SafetensorsHeader {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new IclitError(`cannot open ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  try {
    const size = fstatSync(fd).size;
    const bad = (why: string): never => {
      throw new IclitError(`${path} is not a valid safetensors file: ${why}`);
    };
    if (size < 8) bad(`the file is ${size} bytes, shorter than the 8-byte header length`);
    const lenBuf = Buffer.alloc(8);
    readSync(fd, lenBuf, 0, 8, 0);
    const headerLen = Number(lenBuf.readBigUInt64LE(0));
    if (headerLen > MAX_HEADER) bad(`the header claims ${headerLen} bytes`);
    if (8 + headerLen > size) bad(`the header claims ${headerLen} bytes but the file has ${size - 8} after the length (truncated?)`);
    const headerBuf = Buffer.alloc(headerLen);
    readSync(fd, headerBuf, 0, headerLen, 8);
    const text = headerBuf.toString('utf8');
    // The format's rules: UTF-8 JSON that starts with '{' (trailing spaces allowed as padding), no repeated keys.
    if (!text.startsWith('{')) bad(`the header does not start with '{'`);
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      bad('the header is not JSON');
    }
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) bad('the header is not a JSON object');
    const dup = firstDuplicateKey(text);
    if (dup !== undefined) bad(`the header names '${dup}' twice`);
    const dataStart = 8 + headerLen;
    const dataSize = size - dataStart;
    const tensors = new Map<string, TensorInfo>();
    const spans: { name: string; begin: number; end: number }[] = [];
    let metadata: Record<string, string> = {};
    for (const [name, v] of Object.entries(raw as Record<string, unknown>)) {
      if (name === '__metadata__') {
        if (v === null) continue;
        if (typeof v !== 'object' || Array.isArray(v) || !Object.values(v as object).every((x) => typeof x === 'string')) {
          bad('__metadata__ must map names to strings');
        }
        metadata = v as Record<string, string>;
        continue;
      }
      const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      if (!e || typeof e !== 'object' || Array.isArray(e)) bad(`entry '${name}' is not an object`);
      const dtype = typeof e.dtype === 'string' ? DTYPES[e.dtype] : undefined;
      if (!dtype) bad(`tensor '${name}' has unsupported dtype ${JSON.stringify(e.dtype)} (supported: ${Object.keys(DTYPES).join(', ')})`);
      const shape = e.shape;
      if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) bad(`tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
      const offs = e.data_offsets;
      if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0) || offs[1] < offs[0]) {
        bad(`tensor '${name}' has invalid data_offsets ${JSON.stringify(offs)}`);
      }
      const [begin, end] = offs as [number, number];
      const numel = (shape as number[]).reduce((a, b) => a * b, 1);
      const want = numel * elementBytes(dtype as DType);
      if (!Number.isSafeInteger(want)) bad(`tensor '${name}' has an impossibly large shape ${JSON.stringify(shape)}`);
      if (end - begin !== want) bad(`tensor '${name}' ([${(shape as number[]).join(', ')}] ${e.dtype as string}) needs ${want} bytes but its offsets span ${end - begin}`);
      if (end > dataSize) bad(`tensor '${name}' ends at byte ${end} of the data but the file holds only ${dataSize} (truncated?)`);
      tensors.set(name, { name, dtype: dtype as DType, shape: shape as number[], byteOffset: dataStart + begin, byteLength: want });
      spans.push({ name, begin, end });
    }
    checkTiling(spans, dataSize, bad);
    return { tensors, metadata };
  } finally {
    closeSync(fd);
  }
}

/**
 * The format requires the tensors to tile the data section: sorted by offset, each starts where the previous one
 * ended, the first at 0 and the last at the end of the file. So no two tensors share bytes and no bytes are hidden.
 */
function checkTiling(spans: { name: string; begin: number; end: number }[], dataSize: number, bad: (why: string) => never): void {
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev: string | undefined;
  for (const s of spans) {
    if (s.begin < at) bad(`tensors '${prev}' and '${s.name}' overlap (bytes ${s.begin}–${Math.min(at, s.end)} of the data are claimed by both)`);
    if (s.begin > at) bad(`${s.begin - at} bytes of the data ${prev ? `between tensors '${prev}' and '${s.name}'` : `before tensor '${s.name}'`} belong to no tensor (the format requires tensors to tile the data)`);
    at = s.end;
    prev = s.name;
  }
  if (at !== dataSize) bad(`${dataSize - at} bytes after ${prev ? `the last tensor '${prev}'` : 'the header'} belong to no tensor (the format requires tensors to tile the data)`);
}

/** The first key that occurs twice in the top-level object of a JSON text (JSON.parse silently keeps the last). */
export function firstDuplicateKey(text: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') depth--;
    else if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const literal = text.slice(i, j + 1);
      i = j;
      if (depth !== 1) continue;
      let k = j + 1;
      while (k < text.length && /\s/.test(text[k])) k++;
      if (text[k] !== ':') continue;
      const key = JSON.parse(literal) as string;
      if (seen.has(key)) return key;
      seen.add(key);
    }
  }
  return undefined;
}

/** An open .safetensors file whose tensors are memory-mapped views (no copy until converted). */
export class SafetensorsFile {
  readonly header: SafetensorsHeader;
  #map: MappedFile | undefined;

  private constructor(readonly path: string) {
    this.header = readSafetensorsHeader(path);
  }

  static open(path: string): SafetensorsFile {
    return new SafetensorsFile(path);
  }

  names(): string[] {
    return [...this.header.tensors.keys()];
  }

  info(name: string): TensorInfo | undefined {
    return this.header.tensors.get(name);
  }

  /** A read-only tensor viewing the file's bytes (do not modify it in place). */
  tensor(name: string): Tensor {
    const info = this.header.tensors.get(name);
    if (!info) throw new IclitError(`${this.path} has no tensor '${name}'`);
    this.#map ??= new MappedFile(this.path);
    return this.#map.tensor(info.byteOffset, info.dtype, info.shape);
  }

  /** Drops this file's own handle on the mapping; tensors already made keep it alive. */
  close(): void {
    this.#map?.close();
    this.#map = undefined;
  }
}

/** One tensor to write: raw little-endian bytes in `dtype`. */
export interface TensorBytes {
  dtype: DType;
  shape: readonly number[];
  data: ArrayBufferView;
}

/** Raw bytes of a tensor for writing (copies it out of libtorch). */
export function tensorBytes(t: Tensor): TensorBytes {
  return { dtype: t.dtype, shape: t.shape, data: t.toBuffer() };
}

/** Name, dtype and shape of a tensor to be written (its bytes come later). */
export interface TensorSpec {
  name: string;
  dtype: DType;
  shape: readonly number[];
}

function byteSize(t: { dtype: DType; shape: readonly number[] }): number {
  return t.shape.reduce((a, b) => a * b, 1) * elementBytes(t.dtype);
}

/**
 * The 8-byte length + JSON header (data 8-byte aligned) and the order the data must follow: sorted by name, as
 * the reference writer does, unless `keepOrder` (readers locate tensors by their offsets, so any order is valid).
 */
export function safetensorsHeader(specs: TensorSpec[], metadata?: Record<string, string>, keepOrder = false): { header: Uint8Array[]; order: TensorSpec[] } {
  const order = keepOrder ? [...specs] : [...specs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of order) {
    const n = byteSize(t);
    header[t.name] = { dtype: CODES[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + n] };
    offset += n;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return { header: [len, Buffer.from(json, 'utf8')], order };
}

function checkBytes(name: string, t: TensorBytes): void {
  const n = byteSize(t);
  if (t.data.byteLength !== n) throw new IclitError(`tensor '${name}': ${t.data.byteLength} bytes given for shape [${t.shape.join(', ')}] ${t.dtype} (needs ${n})`);
}

function entriesOf(tensors: Record<string, TensorBytes> | Map<string, TensorBytes>): Map<string, TensorBytes> {
  const m = tensors instanceof Map ? tensors : new Map(Object.entries(tensors));
  for (const [name, t] of m) checkBytes(name, t);
  return m;
}

/** Serialises tensors to the safetensors layout (names sorted, 8-byte aligned header). */
export function encodeSafetensors(tensors: Record<string, TensorBytes> | Map<string, TensorBytes>, metadata?: Record<string, string>): Uint8Array[] {
  const m = entriesOf(tensors);
  const { header, order } = safetensorsHeader([...m].map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape })), metadata);
  return [...header, ...order.map(({ name }) => { const d = m.get(name)!.data; return new Uint8Array(d.buffer, d.byteOffset, d.byteLength); })];
}

/** Writes a .safetensors file. */
export function writeSafetensors(path: string, tensors: Record<string, TensorBytes> | Map<string, TensorBytes>, metadata?: Record<string, string>): void {
  const m = entriesOf(tensors);
  writeSafetensorsStreaming(path, [...m].map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape })), (name) => m.get(name)!.data, metadata);
}

/**
 * Writes a .safetensors file whose tensors are produced one at a time, in file order (sorted by name, or the order
 * of `specs` with `keepOrder`), so that a checkpoint larger than memory (or than one Buffer) can be written.
 */
export function writeSafetensorsStreaming(path: string, specs: TensorSpec[], produce: (name: string) => ArrayBufferView, metadata?: Record<string, string>, keepOrder = false): void {
  const { header, order } = safetensorsHeader(specs, metadata, keepOrder);
  onPath(path, () => writeParts(path, header, order, produce));
}

function writeParts(path: string, header: Uint8Array[], order: TensorSpec[], produce: (name: string) => ArrayBufferView): void {
  const fd = openSync(path, 'w');
  try {
    for (const part of header) writeSync(fd, part);
    for (const spec of order) {
      const data = produce(spec.name);
      checkBytes(spec.name, { ...spec, data });
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      for (let off = 0; off < bytes.byteLength; off += 1 << 30) writeSync(fd, bytes.subarray(off, Math.min(bytes.byteLength, off + (1 << 30))));
    }
  } finally {
    closeSync(fd);
  }
}
