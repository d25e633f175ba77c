// Ranks with ties averaged (SciPy's rankdata method="average") and the sizes of the tie groups.

/** 1-based ranks of `values`, tied values sharing the mean of their ranks. Input must hold no NaN. */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => values[i] - values[j]);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && values[order[j + 1]] === values[order[i]]) j++;
    const rank = (i + j) / 2 + 1; // mean of the 1-based ranks i+1 .. j+1
    for (let k = i; k <= j; k++) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

/** Sizes (> 1) of the groups of equal values, in ascending value order. */
export function tieGroupSizes(values: ArrayLike<number>): number[] {
  const s = Float64Array.from(values).sort();
  const sizes: number[] = [];
  let i = 0;
  while (i < s.length) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[i]) j++;
    if (j > i) sizes.push(j - i + 1);
    i = j + 1;
  }
  return sizes;
}
