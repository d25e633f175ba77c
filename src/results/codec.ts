// RepeatRecord ⇄ JSON text for the results database: shape checks and an explicit encoding of NaN/±Infinity/-0.
import type { RepeatRecord } from '../experiments/record.js';
import { IclitError } from '../util/errors.js';

/**
 * JSON has no NaN or Infinity (JSON.stringify silently writes `null`), yet a cosine of a zero vector is NaN and
 * must come back as NaN. Non-finite numbers (and -0) are therefore written as `{"$float":"NaN"}`,
 * `{"$float":"Infinity"}`, `{"$float":"-Infinity"}`, `{"$float":"-0"}`. A record holds no objects with a
 * `$float` key of its own (extra values are scalars), so the marker cannot collide with real data.
 */
const FLOAT_TAG = '$float';

function encodeNumber(v: number): unknown {
  if (Number.isNaN(v)) return { [FLOAT_TAG]: 'NaN' };
  if (v === Infinity) return { [FLOAT_TAG]: 'Infinity' };
  if (v === -Infinity) return { [FLOAT_TAG]: '-Infinity' };
  if (Object.is(v, -0)) return { [FLOAT_TAG]: '-0' };
  return v;
}

/** JSON text of any value with NaN/±Infinity/-0 tagged (see FLOAT_TAG). */
export function encodeJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' ? encodeNumber(v) : v));
}

/** Inverse of encodeJson. */
export function decodeJson(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === FLOAT_TAG) {
        const tag = (v as Record<string, unknown>)[FLOAT_TAG];
        switch (tag) {
          case 'NaN': return NaN;
          case 'Infinity': return Infinity;
          case '-Infinity': return -Infinity;
          case '-0': return -0;
          default: throw new IclitError(`stored record holds an unknown float tag ${JSON.stringify(tag)}`);
        }
      }
    }
    return v;
  });
}

/** `experiment/model/condition/repeat` for messages (not a key: names may contain '/'). */
export function describeUnit(r: { experiment: string; model: string; condition: string; repeat: number }): string {
  return `${r.experiment}/${r.model}/${r.condition}/repeat ${r.repeat}`;
}

/** Throws an IclitError naming the unit and field when `r` is not a well-formed RepeatRecord. */
export function checkRecord(r: RepeatRecord): void {
  const where = () => (typeof r === 'object' && r !== null ? describeUnit(r) : String(r));
  const fail = (msg: string): never => {
    throw new IclitError(`record ${where()}: ${msg}`);
  };
  if (typeof r !== 'object' || r === null) fail('is not an object');
  for (const k of ['experiment', 'condition', 'model'] as const) {
    if (typeof r[k] !== 'string' || r[k] === '') fail(`${k} must be a non-empty string, got ${JSON.stringify(r[k])}`);
  }
  if (!Number.isInteger(r.repeat) || r.repeat < 0) fail(`repeat must be an integer >= 0, got ${r.repeat}`);
  if (!Number.isSafeInteger(r.seed)) fail(`seed must be a safe integer, got ${r.seed}`);
  if (typeof r.millis !== 'number') fail(`millis must be a number, got ${JSON.stringify(r.millis)}`);
  if (!Array.isArray(r.layers) || !r.layers.every((l) => Number.isInteger(l) && l >= 0)) fail('layers must be an array of hidden-state indices');
  for (const k of ['simAnchorIcl', 'simAnchorIt', 'simIclIt', 'simUpdate'] as const) {
    const a = r[k];
    if (!Array.isArray(a) || a.length !== r.layers.length || !a.every((x) => typeof x === 'number')) {
      fail(`${k} must be ${r.layers.length} numbers (one per measured layer), got ${Array.isArray(a) ? `${a.length} values` : typeof a}`);
    }
  }
  if (typeof r.prompts !== 'object' || r.prompts === null || typeof r.prompts.anchor !== 'string' || typeof r.prompts.icl !== 'string' || !Array.isArray(r.prompts.tuning)) {
    fail('prompts must be { anchor: string, icl: string, tuning: string[] }');
  }
  if (typeof r.tokenCounts !== 'object' || r.tokenCounts === null || !Array.isArray(r.tokenCounts.tuning)) {
    fail('tokenCounts must be { anchor: number, icl: number, tuning: number[] }');
  }
  if (typeof r.configHash !== 'string' || !/^[0-9a-f]{8,}$/.test(r.configHash)) fail(`configHash must be a hex digest, got ${JSON.stringify(r.configHash)}`);
  if (r.accuracy !== undefined) {
    const a = r.accuracy;
    if (typeof a !== 'object' || a === null) fail('accuracy must be { zeroShot, icl, it, n }');
    for (const k of ['zeroShot', 'icl', 'it'] as const) if (typeof a[k] !== 'number' || !(a[k] >= 0 && a[k] <= 1)) fail(`accuracy.${k} must be a fraction in [0, 1], got ${JSON.stringify(a[k])}`);
    if (!Number.isInteger(a.n) || a.n < 1) fail(`accuracy.n must be a positive integer, got ${JSON.stringify(a.n)}`);
  }
  if (r.accuracy?.flips !== undefined) {
    const f = r.accuracy.flips;
    if (typeof f !== 'object' || f === null || !(['it', 'icl', 'both'] as const).every((k) => Number.isInteger(f[k]) && f[k] >= 0 && f[k] <= r.accuracy!.n)) fail('accuracy.flips must be { it, icl, both }, counts of at most accuracy.n');
  }
  if (r.outputs !== undefined) {
    const o = r.outputs;
    if (typeof o !== 'object' || o === null) fail('outputs must be an object');
    for (const k of ['klIclIt', 'jsIclIt', 'klIclAnchor', 'klItAnchor'] as const) if (typeof o[k] !== 'number') fail(`outputs.${k} must be a number, got ${JSON.stringify(o[k])}`);
    for (const k of ['top1IclIt', 'top1AnchorIcl', 'top1AnchorIt'] as const) if (typeof o[k] !== 'boolean') fail(`outputs.${k} must be a boolean, got ${JSON.stringify(o[k])}`);
    const m = o.labelMass;
    if (m !== undefined && (typeof m !== 'object' || m === null || !(['anchor', 'icl', 'it'] as const).every((k) => typeof m[k] === 'number'))) fail('outputs.labelMass must be { anchor, icl, it } numbers');
  }
  if (r.attention !== undefined) {
    const a = r.attention;
    if (typeof a !== 'object' || a === null) fail('attention must be an object');
    for (const k of ['anchorIcl', 'anchorIt', 'iclIt', 'change', 'demoShare'] as const) {
      const v = a[k];
      if (!Array.isArray(v) || v.length !== r.layers.length || !v.every((x) => typeof x === 'number')) fail(`attention.${k} must be ${r.layers.length} numbers (one per measured layer)`);
    }
  }
  if (r.lossDecrease !== undefined && (typeof r.lossDecrease !== 'object' || r.lossDecrease === null || typeof r.lossDecrease.instruction !== 'number' || typeof r.lossDecrease.example !== 'number')) {
    fail('lossDecrease must be { instruction: number, example: number }');
  }
  if (r.patching !== undefined) {
    const p = r.patching;
    if (typeof p !== 'object' || p === null || !Array.isArray(p.layers) || !p.layers.every((l) => Number.isInteger(l) && l >= 0)) fail('patching must be { layers: hidden-state indices, icl: number[], it: number[] }');
    for (const k of ['icl', 'it'] as const) if (!Array.isArray(p[k]) || p[k].length !== p.layers.length || !p[k].every((x) => typeof x === 'number')) fail(`patching.${k} must be ${p.layers.length} numbers (one per patch point)`);
    // the cross curves are optional: records written before them lack them
    for (const k of ['iclToIt', 'itToIcl'] as const) {
      const v = p[k];
      if (v !== undefined && (!Array.isArray(v) || v.length !== p.layers.length || !v.every((x) => typeof x === 'number'))) fail(`patching.${k} must be ${p.layers.length} numbers (one per patch point) when present`);
    }
  }
  for (const k of ['states', 'adapter'] as const) {
    const v = r[k];
    if (v !== undefined && (typeof v !== 'string' || v === '' || v.startsWith('/') || v.split('/').includes('..'))) fail(`${k} must be a path inside the results folder, got ${JSON.stringify(v)}`);
  }
  if (typeof r.extra !== 'object' || r.extra === null || Array.isArray(r.extra)) fail('extra must be an object');
  for (const [k, v] of Object.entries(r.extra)) {
    if (!(v === null || ['number', 'string', 'boolean'].includes(typeof v))) fail(`extra.${k} must be a number, string, boolean or null, got ${typeof v}`);
  }
}

/** The record as stored: validated, NaN-safe JSON. */
export function encodeRecord(r: RepeatRecord): string {
  checkRecord(r);
  return encodeJson(r);
}

/** A stored record's JSON, decoded and validated (throws IclitError on damage). */
export function decodeRecord(text: string): RepeatRecord {
  let v: unknown;
  try {
    v = decodeJson(text);
  } catch (e) {
    throw new IclitError(`not valid JSON (${(e as Error).message})`);
  }
  checkRecord(v as RepeatRecord);
  return v as RepeatRecord;
}
