// A results tree (what `iclit run paper` writes): a folder whose sub-folders are results folders, one per preset.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DB_FILE } from './store.js';

/**
 * The results folders `dir` stands for: itself when it holds a results database (or nothing to expand), else its
 * sub-folders that do, in `order` (names listed there first, in that order; others after, by name).
 */
export function resultsFolders(dir: string, order: readonly string[] = []): string[] {
  if (existsSync(join(dir, DB_FILE)) || !existsSync(dir) || !statSync(dir).isDirectory()) return [dir];
  const subs = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, DB_FILE)))
    .map((e) => e.name);
  if (subs.length === 0) return [dir];
  const rank = (n: string): number => (order.includes(n) ? order.indexOf(n) : order.length);
  return subs.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b)).map((n) => join(dir, n));
}
