// Sentence embeddings cached on disk inside a results folder, so a study embeds each sentence once (across processes too).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile, writeSafetensors } from '../io/index.js';
import type { TextEmbedder } from '../models/index.js';
import { tidy } from '../torch/index.js';
import { IclitError } from '../util/errors.js';


/** The cache key of one text under one encoder: sha256(fingerprint + NUL + text), hex. */
export function embeddingKey(fingerprint: string, text: string): string {
  return createHash('sha256').update(fingerprint).update('\0').update(text, 'utf8').digest('hex');
}

/**
 * Embeddings on disk so that a study embeds each sentence once: `dir/<fingerprint[0:16]>/<set hash>.safetensors`
 * each holds `keys` (uint8 [n, 32], the sha256 keys) and `embeddings` (float32 [n, D]) for one batch of new texts.
 * Files are written atomically (temp name, then rename) and read back lazily; other processes' files are picked up.
 */
export class EmbeddingCache {
  readonly #known = new Map<string, Map<string, Float32Array>>();
  readonly #loadedFiles = new Set<string>();
  /** Texts served from the cache / embedded by the encoder, over this object's life. */
  hits = 0;
  misses = 0;

  constructor(readonly dir: string) {}

  /** The default place: `<resultsDir>/.iclit-cache/embeddings`. */
  static inResults(resultsDir: string): EmbeddingCache {
    return new EmbeddingCache(join(resultsDir, '.iclit-cache', 'embeddings'));
  }

  #folder(fingerprint: string): string {
    if (!/^[0-9a-f]{16,}$/.test(fingerprint)) throw new IclitError(`encoder fingerprint must be a hex digest, got ${JSON.stringify(fingerprint)}`);
    return join(this.dir, fingerprint.slice(0, 16));
  }

  #load(fingerprint: string): Map<string, Float32Array> {
    let known = this.#known.get(fingerprint);
    if (!known) this.#known.set(fingerprint, (known = new Map()));
    const folder = this.#folder(fingerprint);
    if (!existsSync(folder)) return known;
    for (const f of readdirSync(folder).filter((n) => n.endsWith('.safetensors')).sort()) {
      const path = join(folder, f);
      if (this.#loadedFiles.has(path)) continue;
      this.#loadedFiles.add(path);
      const file = SafetensorsFile.open(path);
      try {
        if (file.header.metadata.fingerprint !== fingerprint) continue;
        const keys = file.info('keys');
        const emb = file.info('embeddings');
        if (!keys || !emb || keys.dtype !== 'uint8' || emb.dtype !== 'float32' || keys.shape[0] !== emb.shape[0] || keys.shape[1] !== 32) {
          throw new IclitError(`${path} is not an iclit embedding cache file (delete it to rebuild)`);
        }
        const [kb, eb] = tidy(() => [file.tensor('keys').toBuffer(), file.tensor('embeddings').toFloat32Array()] as const);
        const D = emb.shape[1];
        for (let i = 0; i < keys.shape[0]; i++) known.set(kb.subarray(i * 32, (i + 1) * 32).toString('hex'), eb.slice(i * D, (i + 1) * D));
      } finally {
        file.close();
      }
    }
    return known;
  }

  /** Embeddings of `texts` in order: cached ones read back, the rest embedded once (duplicates included) and stored. */
  embed(encoder: TextEmbedder, texts: readonly string[]): Float32Array[] {
    const fp = encoder.fingerprint;
    const keys = texts.map((t) => embeddingKey(fp, t));
    let known = this.#known.get(fp) ?? this.#load(fp);
    if (keys.some((k) => !known.has(k))) known = this.#load(fp); // another process may have written them
    const missing = new Map<string, string>();
    keys.forEach((k, i) => {
      if (!known.has(k)) missing.set(k, texts[i]);
    });
    this.hits += keys.filter((k) => !missing.has(k)).length;
    if (missing.size > 0) {
      const newKeys = [...missing.keys()];
      const vectors = encoder.embed([...missing.values()]);
      if (vectors.length !== newKeys.length) throw new IclitError(`the encoder returned ${vectors.length} embeddings for ${newKeys.length} texts`);
      this.misses += newKeys.length;
      const D = vectors[0].length;
      const flat = new Float32Array(newKeys.length * D);
      vectors.forEach((v, i) => {
        if (v.length !== D) throw new IclitError(`the encoder returned embeddings of lengths ${D} and ${v.length}`);
        flat.set(v, i * D);
        known.set(newKeys[i], v);
      });
      const keyBytes = Buffer.concat(newKeys.map((k) => Buffer.from(k, 'hex')));
      const folder = this.#folder(fp);
      mkdirSync(folder, { recursive: true });
      const setHash = createHash('sha256').update(keyBytes).digest('hex');
      const path = join(folder, `${setHash}.safetensors`);
      const tmp = `${path}.${process.pid}.tmp`;
      writeSafetensors(
        tmp,
        { keys: { dtype: 'uint8', shape: [newKeys.length, 32], data: keyBytes }, embeddings: { dtype: 'float32', shape: [newKeys.length, D], data: flat } },
        { fingerprint: fp, count: String(newKeys.length), dimension: String(D) },
      );
      renameSync(tmp, path);
      this.#loadedFiles.add(path);
    }
    return keys.map((k) => known.get(k)!);
  }
}

