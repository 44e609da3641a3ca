/**
 * What the report's search box needs to give the compound-level answer of `phenomap query`
 * offline: every compound's verdict and activity call, and per representation its ranked
 * neighbours and community. Built by src/repurpose (which knows how to compute it) and inlined by
 * html.ts; compact arrays rather than objects, since a run can hold thousands of compounds.
 */
export interface CompoundSearchData {
  /** Representations with answers; the first is the default. */
  representations: string[];
  k: number;
  threshold: number;
  controls: { rule: string; wells: number } | null;
  noControlsReason: string | null;
  /** Names of the negative controls (the search says so instead of answering). */
  controlNames: string[];
  compounds: string[];
  /** The answer's first sentence, per compound (as the CLI prints it). */
  verdict: string[];
  /** Per compound: [status (1 active, 0 inactive, −1 no call), mAP, p, q, replicate wells]. */
  activity: [number, number | null, number | null, number | null, number][];
  /** Per compound: [dose, status, mAP, q, wells] per dose. */
  byDose: [string | null, number, number | null, number | null, number][][];
  label: string[][];
  target: string[][];
  labelColumn: string;
  perRep: Record<string, RepresentationSearch>;
}

export interface RepresentationSearch {
  /** Per compound: [[neighbour compound index, similarity, percentile, p, q, same community (1/0/−1)], …]. */
  neighbours: number[][][];
  /** Per compound, per neighbour: [query dose, neighbour dose]. */
  doses: [string | null, string | null][][];
  /** Per compound: [community, query wells in it, query wells] (community −1: none). */
  community: [number, number, number][];
  /** Per community id: size, control wells, other compounds [name, wells], enrichment [label, k, n, p, q, significant 1/0]. */
  communities: Record<string, { profiles: number; controls: number; compounds: [string, number][]; enrichment: [string, number, number, number, number, number][] }>;
}
