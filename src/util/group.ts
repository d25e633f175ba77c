// Grouping items by a key, keeping the order in which keys first appear.

/** Groups items by a key, keeping first-seen order of keys (and of items within a group). */
export function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const g = m.get(k);
    if (g) g.push(it);
    else m.set(k, [it]);
  }
  return m;
}
