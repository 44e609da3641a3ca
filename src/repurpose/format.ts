/**
 * Compound answers as text (the terminal), CSV (one row per neighbour) and JSON. The verdict is
 * always the first line of an answer; when the compound is indistinguishable from the controls
 * every later section is headed UNRELIABLE.
 */
import { spreadsheetSafe } from '../util/csvSafe.js';
import type { ActivitySummary, CompoundAnswer, QueryContext } from './answer.js';

const f3 = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(3));
const fp = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x < 1e-3 ? x.toExponential(1) : x.toPrecision(2));

function activityWord(a: ActivitySummary): string {
  if (a.status === 'active') return `active (q ${fp(a.q)})`;
  if (a.status === 'inactive') return `INACTIVE (q ${fp(a.q)})`;
  return 'no call';
}

function table(head: string[], rows: string[][], right: boolean[]): string[] {
  const w = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) => cells.map((s, c) => (right[c] ? s.padStart(w[c]!) : s.padEnd(w[c]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)];
}

/** The context shared by every answer: where the wells and controls came from, the nulls. */
export function formatContext(ctx: QueryContext): string {
  const ctrl = ctx.controls
    ? `${ctx.controls.wells} negative-control wells (${ctx.controls.rule})${ctx.controls.used < ctx.controls.wells ? `, ${ctx.controls.used} sampled` : ''}`
    : `no negative controls — ${ctx.noControlsReason ?? 'none found'}; no activity calls`;
  const lines = [
    `run ${ctx.runDir}: compounds by ${ctx.compoundColumn}${ctx.doseColumn ? `, doses by ${ctx.doseColumn}` : ''}; wells from ${ctx.wellsFrom}; ${ctrl}`,
  ];
  if (ctx.controls) lines.push(`activity: ${ctx.activeCompounds} of ${ctx.compoundsCalled} compounds with ≥ 2 wells are active (replicate mAP against the controls, BH q < ${ctx.threshold}, ${ctx.nullSize} null samples)`);
  lines.push(`neighbours: ${ctx.representation} representation, ${ctx.compoundProfile === 'pooled' ? 'one consensus per compound' : 'one consensus per dose, compounds matched by their closest doses'} (${ctx.consensus}), cosine${ctx.centredOnControls ? ' of the change from the control centroid' : ''}; null = ${ctx.nullPairs} ${ctx.nullExact ? '' : 'sampled '}pairs of ${ctx.compounds} compounds`);
  if (ctx.wellsWithMissingValues) lines.push(`${ctx.wellsWithMissingValues} wells with a missing value were left out of the activity calls`);
  return lines.join('\n');
}

/** One answer as text. */
export function formatAnswer(a: CompoundAnswer): string {
  const out: string[] = [];
  const head = a.compound && a.compound !== a.query ? `${a.query} → ${a.compound}` : a.query;
  out.push(`== ${head}`);
  out.push(`  ${a.verdict}`);
  if (a.status !== 'ok' && a.status !== 'not-in-run') return out.join('\n');
  const mark = a.reliable === false ? 'UNRELIABLE — ' : '';
  if (a.treatments.length) out.push(`  wells in the run: ${a.wells}${a.treatments.length > 1 || a.treatments[0]!.dose !== null ? ` (${a.treatments.map((t) => `${t.dose ?? '?'}: ${t.wells}`).join(', ')})` : ''}`);
  const ann = [a.annotations.label.length ? `label ${a.annotations.label.join(' | ')}` : '', a.annotations.target.length ? `target ${a.annotations.target.join(' | ')}` : ''].filter(Boolean);
  if (ann.length) out.push(`  ${ann.join('; ')}`);
  if (a.neighbours.length) {
    out.push(`  ${mark}nearest compounds (${a.representation}; similarity = cosine, percentile and p against all compound pairs, q = BH over the candidates):`);
    const rows = a.neighbours.map((n) => [
      String(n.rank), f3(n.similarity), `${n.percentile.toFixed(1)}%`, fp(n.p), fp(n.q), activityWord(n.activity),
      n.sameCommunity === null ? '—' : n.sameCommunity ? `same (${n.communityWells}/${n.wells})` : '', `${n.compound}${n.doses.query !== null || n.doses.neighbour !== null ? ` (${n.doses.query ?? '?'} ~ ${n.doses.neighbour ?? '?'})` : ''}`,
      [...n.sharedAnnotations.label, ...n.sharedAnnotations.target].join(' | '),
    ]);
    for (const l of table(['#', 'sim', 'pctile', 'p', 'q', 'activity', 'community', 'compound (doses)', 'shared'], rows, [true, true, true, true, true, false, false, false, false])) out.push(`    ${l}`);
  }
  const c = a.community;
  if (c) {
    const share = c.profiles ? Math.round((100 * c.controlProfiles) / c.profiles) : 0;
    out.push(`  ${mark}community: ${c.representation} cluster ${c.cluster}, ${c.profiles} profiles holding ${c.queryWellsInCommunity} of the query's ${c.queryWells} wells; ${c.controlProfiles} negative-control wells (${share}%)${c.dominatedByControls ? ' — DOMINATED BY CONTROLS' : ''}`);
    if (c.queryCommunities.length > 1) out.push(`    the query's wells by community: ${c.queryCommunities.map((x) => `${x.cluster} (${x.wells})`).join(', ')}`);
    if (c.compounds.length) {
      const shown = c.compounds.slice(0, 12).map((x) => `${x.compound} (${x.profiles})`);
      out.push(`    other compounds: ${shown.join(', ')}${c.compounds.length > 12 ? `, … ${c.compounds.length - 12} more` : ''}`);
    }
    const sig = c.enrichment.filter((e) => e.significant);
    if (sig.length) out.push(`    enriched: ${sig.slice(0, 6).map((e) => `${e.label} (${e.k}/${e.n}, p ${fp(e.p)}, q ${fp(e.q)})`).join('; ')}`);
    else out.push('    no label is significantly enriched in this community');
  }
  for (const n of a.notes) out.push(`  note: ${n}`);
  return out.join('\n');
}

export function formatAnswers(ctx: QueryContext, answers: readonly CompoundAnswer[]): string {
  return [formatContext(ctx), ...answers.map((a) => `\n${formatAnswer(a)}`)].join('\n');
}

function csvCell(v: string | number | boolean | null | undefined): string {
  const s = v === null || v === undefined ? '' : typeof v === 'number' ? (Number.isFinite(v) ? String(Number(v.toPrecision(8))) : '') : String(v);
  const t = typeof v === 'string' ? spreadsheetSafe(s) : s;
  return /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

export const ANSWER_CSV_COLUMNS = [
  'query', 'status', 'compound', 'active', 'activity_status', 'map', 'p', 'q', 'wells', 'reliable', 'community', 'community_control_share',
  'rank', 'neighbour', 'similarity', 'percentile', 'neighbour_p', 'neighbour_q', 'query_dose', 'neighbour_dose',
  'neighbour_activity', 'neighbour_map', 'neighbour_activity_q', 'shared_label', 'shared_target', 'same_community', 'verdict',
] as const;

/** One row per (query, neighbour); a query without neighbours gets one row with the neighbour columns empty. */
export function answersToCsv(answers: readonly CompoundAnswer[]): string {
  const lines = [ANSWER_CSV_COLUMNS.join(',')];
  for (const a of answers) {
    const act = a.activity;
    const c = a.community;
    const base = [
      a.query, a.status, a.compound, act?.active, act?.status, act?.map, act?.p, act?.q, a.wells, a.reliable,
      c ? c.cluster : null, c && c.profiles ? c.controlProfiles / c.profiles : null,
    ];
    const rows = a.neighbours.length
      ? a.neighbours.map((n) => [
        n.rank, n.compound, n.similarity, n.percentile, n.p, n.q, n.doses.query, n.doses.neighbour,
        n.activity.status, n.activity.map, n.activity.q, n.sharedAnnotations.label.join('|'), n.sharedAnnotations.target.join('|'), n.sameCommunity,
      ])
      : [new Array<null>(14).fill(null)];
    for (const r of rows) lines.push([...base, ...r, a.verdict].map(csvCell).join(','));
  }
  return lines.join('\n') + '\n';
}

/** JSON with non-finite numbers as null. */
export function answersToJson(ctx: QueryContext, answers: readonly CompoundAnswer[]): string {
  return JSON.stringify({ context: ctx, answers }, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1) + '\n';
}
