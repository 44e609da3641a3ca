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
