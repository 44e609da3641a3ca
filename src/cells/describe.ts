/** `cells inspect`: what each source holds, without aggregating anything. */
import { planSources, resolveSourceOptions, withSource, type CellSourceOptions } from './sources.js';

export interface CellSourceInfo {
  readonly source: string;
  readonly layout: string;
  readonly images: number;
  readonly wells: number;
  readonly strata: string[];
  readonly compartments: { name: string; table: string; features: number; objects?: number }[];
  /** How compartments link into cells, in words. */
  readonly linking: string;
}

export async function describeCells(args: readonly string[], opts: CellSourceOptions = {}): Promise<CellSourceInfo[]> {
  const so = resolveSourceOptions(opts);
  const out: CellSourceInfo[] = [];
  for (const plan of planSources(args, so)) {
    out.push(
      await withSource(plan, async (s) => {
        const sc = s.schema;
        const counts = s.objectCounts();
        const linking = sc.linking
          ? `cells link through ${sc.linking.hub}: ${sc.linking.parents.map((p) => `${p.column.name} → ${p.compartment}`).join(', ')}`
          : sc.linkProblem ?? 'cells already linked (one row per cell)';
        return {
          source: sc.source,
          layout: sc.layout,
          images: sc.images.n,
          wells: sc.wells.keys.length,
          strata: [...sc.wells.strata],
          compartments: sc.compartments.map((c) => ({ name: c.name, table: c.table, features: c.features.length, ...(counts ? { objects: counts[c.name] } : {}) })),
          linking,
        };
      }),
    );
  }
  return out;
}
