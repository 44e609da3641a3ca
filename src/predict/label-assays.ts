/**
 * Real labels as "assays" (spec, Data (b)): a metadata label column such as Metadata_target or
 * Metadata_moa becomes one binary assay per label, one-vs-rest. A compound is active in the
 * assays of its labels ('|' separates several, as in the Drug Repurposing Hub) and inactive in
 * every other; compounds without a label are unknown everywhere (no cells), not inactive.
 * Labels are collected per compound (the union over its rows), so replicate rows agree.
 */
import type { ActivityRecord } from './activity-table.js';
import type { ActivityMatrix } from './sparse.js';

export interface LabelAssayReport {
  compounds: number;
  labelledCompounds: number;
  /** Compounds none of whose rows carries a (non-excluded) label. */
  unlabelledCompounds: number;
  /** Compounds whose rows carry different label sets (their union is used). */
  inconsistentCompounds: number;
  assays: number;
}

export function labelAssayRecords(
  ids: readonly (string | null)[],
  labels: readonly (string | null)[],
  opts: { separator?: string; exclude?: readonly string[] } = {},
): { records: ActivityRecord[]; assays: string[]; report: LabelAssayReport } {
  if (ids.length !== labels.length) throw new RangeError(`labelAssayRecords: ${ids.length} ids, ${labels.length} labels`);
  const sep = opts.separator ?? '|';
  const exclude = new Set(opts.exclude ?? []);
  const byCompound = new Map<string, { set: Set<string>; sig: string | null; inconsistent: boolean }>();
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (id === null || id === undefined || id === '') continue;
    const parts = (labels[i] ?? '').split(sep).map((s) => s.trim()).filter((s) => s !== '' && !exclude.has(s));
    const sig = [...new Set(parts)].sort().join(sep);
    let e = byCompound.get(id);
    if (!e) { e = { set: new Set(), sig, inconsistent: false }; byCompound.set(id, e); }
    else if (e.sig !== sig) e.inconsistent = true;
    for (const p of parts) e.set.add(p);
  }
  const assaySet = new Set<string>();
  for (const e of byCompound.values()) for (const l of e.set) assaySet.add(l);
  const assays = [...assaySet].sort();
  const records: ActivityRecord[] = [];
  let labelled = 0, inconsistent = 0;
  for (const [id, e] of byCompound) {
    if (e.inconsistent) inconsistent++;
    if (e.set.size === 0) continue;
    labelled++;
    for (const a of assays) records.push({ compound: id, assay: a, value: e.set.has(a) ? 1 : 0 });
  }
  return {
    records, assays,
    report: { compounds: byCompound.size, labelledCompounds: labelled, unlabelledCompounds: byCompound.size - labelled, inconsistentCompounds: inconsistent, assays: assays.length },
  };
}

/**
 * Positive compounds per assay: distinct groups (compound ids) among the rows with value ≥
 * threshold. An assay needs ≥ 2 of them for compound-grouped CV to ever hold out a positive
 * compound while another one stays in training.
 */
export function positiveCompounds(Y: ActivityMatrix, groups: readonly string[], threshold = 0.5): Int32Array {
  const out = new Int32Array(Y.cols);
  for (let j = 0; j < Y.cols; j++) {
    const seen = new Set<string>();
    for (let k = Y.colPtr[j]!; k < Y.colPtr[j + 1]!; k++) if (Y.colVal[k]! >= threshold) seen.add(groups[Y.colRow[k]!]!);
    out[j] = seen.size;
  }
  return out;
}
