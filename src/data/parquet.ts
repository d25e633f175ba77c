// Reading Parquet files (Hugging Face data set shards) into plain row objects with hyparquet.
import { existsSync } from 'node:fs';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import { IclitError } from '../util/errors.js';

/** Top-level column names and all rows of a Parquet file (structs come back as objects, INT64 as bigint). */
export interface ParquetTable {
  columns: string[];
  rows: Record<string, unknown>[];
}

/** True when the bytes start with the Parquet magic "PAR1". */
export function isParquetMagic(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x41 && head[2] === 0x52 && head[3] === 0x31;
}

/** Top-level column names of a Parquet file, read from its footer only. */
export async function parquetColumns(file: string): Promise<string[]> {
  if (!existsSync(file)) throw new IclitError(`${file}: no such file`);
  try {
    const buf = await asyncBufferFromFile(file);
    const meta = await parquetMetadataAsync(buf);
    return parquetSchema(meta).children.map((c) => c.element.name);
  } catch (e) {
    throw new IclitError(`${file}: not a readable Parquet file (${(e as Error).message})`);
  }
}

/** Reads every row of `file` (optionally only `columns`). */
export async function readParquet(file: string, columns?: string[]): Promise<ParquetTable> {
  const all = await parquetColumns(file);
  const wanted = columns ?? all;
  try {
    const buf = await asyncBufferFromFile(file);
    const rows = (await parquetReadObjects({ file: buf, columns: wanted })) as Record<string, unknown>[];
    return { columns: all, rows };
  } catch (e) {
    throw new IclitError(`${file}: cannot read Parquet rows (${(e as Error).message})`);
  }
}
