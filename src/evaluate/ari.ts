/**
 * Adjusted Rand index between two partitions (Hubert & Arabie 1985), as sklearn's
 * adjusted_rand_score: 1 for identical partitions up to relabelling, ≈ 0 for chance agreement.
 */
export function adjustedRandIndex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (b.length !== n) throw new RangeError(`adjustedRandIndex: ${n} vs ${b.length} labels`);
  if (n < 2) return 1;
  const comb2 = (x: number) => (x * (x - 1)) / 2;
  const cells = new Map<string, number>();
  const rows = new Map<number, number>();
  const cols = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const key = `${a[i]},${b[i]}`;
    cells.set(key, (cells.get(key) ?? 0) + 1);
    rows.set(a[i]!, (rows.get(a[i]!) ?? 0) + 1);
    cols.set(b[i]!, (cols.get(b[i]!) ?? 0) + 1);
  }
  let index = 0, sumA = 0, sumB = 0;
  for (const v of cells.values()) index += comb2(v);
  for (const v of rows.values()) sumA += comb2(v);
  for (const v of cols.values()) sumB += comb2(v);
  const expected = (sumA * sumB) / comb2(n);
  const max = 0.5 * (sumA + sumB);
  // Both partitions trivial (all singletons or one cluster each): sklearn returns 1.
  if (max === expected) return 1;
  return (index - expected) / (max - expected);
}

/**
 * Normalised mutual information between two partitions, scikit-learn's
 * normalized_mutual_info_score with the arithmetic-mean normaliser: I(a; b) / ((H(a) + H(b)) / 2),
 * natural logarithms; 1 when both partitions are a single cluster (as sklearn).
 */
export function normalizedMutualInfo(a: ArrayLike<number | string>, b: ArrayLike<number | string>): number {
  const n = a.length;
  if (b.length !== n) throw new RangeError(`normalizedMutualInfo: ${n} vs ${b.length} labels`);
  const code = (x: ArrayLike<number | string>) => {
    const m = new Map<number | string, number>();
    return { codes: Int32Array.from({ length: n }, (_, i) => m.get(x[i]!) ?? (m.set(x[i]!, m.size), m.size - 1)), k: () => m.size };
  };
  const A = code(a), B = code(b);
  const ka = A.k(), kb = B.k();
  if (n === 0 || (ka === 1 && kb === 1)) return 1;
  const na = new Float64Array(ka), nb = new Float64Array(kb), nab = new Float64Array(ka * kb);
  for (let i = 0; i < n; i++) {
    na[A.codes[i]!]++;
    nb[B.codes[i]!]++;
    nab[A.codes[i]! * kb + B.codes[i]!]++;
  }
  const entropy = (c: Float64Array) => c.reduce((h, v) => (v > 0 ? h - (v / n) * Math.log(v / n) : h), 0);
  let mi = 0;
  for (let x = 0; x < ka; x++) {
    for (let y = 0; y < kb; y++) {
      const v = nab[x * kb + y]!;
      if (v > 0) mi += (v / n) * Math.log((n * v) / (na[x]! * nb[y]!));
    }
  }
  const denom = (entropy(na) + entropy(nb)) / 2;
  return denom > 0 ? Math.max(0, mi) / denom : 1;
}
