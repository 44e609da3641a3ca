/**
 * The compound answers of every compound of a run, packed for the report's search box
 * (src/report/compoundSearch.ts), and `writeReportWithAnswers`, which writes the report with
 * them: the search box then gives the same answer as `phenomap query`, offline.
 */
import type { CompoundSearchData, RepresentationSearch } from '../report/compoundSearch.js';
import { writeReport, type ReportOptions, type ReportResult } from '../report/html.js';
import { type Reporter, silentReporter } from '../util/log.js';
import { isUserError } from '../util/errors.js';
import { answerCompound, openCompoundIndex, type CompoundIndex, type CompoundQueryOptions } from './answer.js';

const STATUS = { active: 1, inactive: 0, 'not-called': -1 } as const;
const r4 = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(4)) : null);

/** Answers for every compound in every representation of the run (k neighbours each). */
export function compoundSearchData(index: CompoundIndex, k: number): CompoundSearchData {
  const run = index.run;
  const reps = [index.options.representation!, ...run.reps.filter((r) => r !== index.options.representation && run.repr(r))];
  const first = index.space(reps[0]!);
  const compounds = first.space.compounds;
  const at = new Map(compounds.map((c, i) => [c, i]));
  const perRep: Record<string, RepresentationSearch> = {};
  const verdict: string[] = [];
  const activity: CompoundSearchData['activity'] = [];
  const byDose: CompoundSearchData['byDose'] = [];
  const label: string[][] = [], target: string[][] = [];
  reps.forEach((rep, ri) => {
    const out: RepresentationSearch = { neighbours: [], doses: [], community: [], communities: {} };
    for (const c of compounds) {
      const a = answerCompound(index, c, { representation: rep, k });
      if (ri === 0) {
        verdict.push(a.verdict);
        const act = a.activity;
        activity.push([act ? STATUS[act.status] : -1, act?.map ?? null, act?.p ?? null, act?.q ?? null, act?.replicates ?? a.wells]);
        byDose.push(a.activityByDose.map((d) => [d.dose, STATUS[d.status], d.map, d.q, d.replicates]));
        label.push(a.annotations.label);
        target.push(a.annotations.target);
      }
      out.neighbours.push(a.neighbours.map((n) => [at.get(n.compound)!, r4(n.similarity)!, r4(n.percentile)!, r4(n.p)!, r4(n.q)!, n.sameCommunity === null ? -1 : n.sameCommunity ? 1 : 0]));
      out.doses.push(a.neighbours.map((n) => [n.doses.query, n.doses.neighbour]));
      const cm = a.community;
      out.community.push(cm ? [cm.cluster, cm.queryWellsInCommunity, cm.queryWells] : [-1, 0, a.wells]);
      if (cm && !(String(cm.cluster) in out.communities)) {
        out.communities[String(cm.cluster)] = {
          profiles: cm.profiles,
          controls: cm.controlProfiles,
          // The query itself is left out of `compounds`; the page adds it back from its own rows.
          compounds: cm.compounds.map((x) => [x.compound, x.profiles]),
          enrichment: cm.enrichment.map((e) => [e.label, e.k, e.n, r4(e.p)!, r4(e.q) ?? 1, e.significant ? 1 : 0]),
        };
      }
    }
    perRep[rep] = out;
  });
  const controlNames = new Set<string>();
  const w = index.wells;
  if (w.controls) for (let i = 0; i < w.compound.length; i++) if (w.controls.mask[i] && w.compound[i]) controlNames.add(w.compound[i]!);
  return {
    representations: reps, k, threshold: index.activity.threshold,
    controls: index.activity.controls ? { rule: index.activity.controls.rule, wells: index.activity.controls.wells } : null,
    noControlsReason: index.activity.noControlsReason ?? null,
    controlNames: [...controlNames], compounds, verdict, activity, byDose, label, target, labelColumn: run.labelCol, perRep,
  };
}

/**
 * writeReport with the compound answers in its search box. When the answers cannot be computed
 * (e.g. no repr_raw.npy), the report is still written, without them, and the reason is warned.
 */
export async function writeReportWithAnswers(runDir: string, opts: ReportOptions = {}, query: CompoundQueryOptions = {}): Promise<ReportResult> {
  const reporter: Reporter = opts.reporter ?? silentReporter;
  let compounds: CompoundSearchData | undefined;
  try {
    const index = await openCompoundIndex(runDir, { reporter, ...query });
    compounds = compoundSearchData(index, opts.neighbours ?? query.k ?? 10);
  } catch (e) {
    if (!isUserError(e)) throw e;
    reporter.warn(`report: the search box gives per-profile highlights only, no compound answers (${(e as Error).message})`);
  }
  return writeReport(runDir, { ...opts, compounds });
}
