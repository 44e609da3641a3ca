import type { Command } from 'commander';
import { queryDrug, type QueryResult } from '../../pipeline/query.js';
import { intOption } from '../options.js';

function formatQuery(q: QueryResult): string {
  const out: string[] = [];
  out.push(`${q.drug}: ${q.hits.length} profile(s) matched in ${q.matchedColumn}`);
  for (const hit of q.hits) {
    out.push('');
    out.push(`== ${hit.name}${hit.dose ? ` (dose ${hit.dose})` : ''} — ${hit.moa} — input row ${hit.inputRow + 1}`);
    for (const [rep, r] of Object.entries(hit.byRepresentation)) {
      if (!r) continue;
      out.push(`  [${rep}] community ${r.cluster} (exemplar ${r.exemplar}), ${r.members.length + 1} members`);
      const shown = r.members.slice(0, 25);
      for (const m of shown) out.push(`      ${m.name}${m.dose ? ` @${m.dose}` : ''} — ${m.moa}`);
      if (r.members.length > shown.length) out.push(`      … ${r.members.length - shown.length} more (use --json)`);
      out.push(`    nearest neighbours (Euclidean distance, p = share of profile pairs at least as close):`);
      for (const nb of r.neighbours) {
        out.push(`      ${nb.distance.toFixed(3).padStart(9)}  p=${nb.p.toExponential(2)}  ${nb.sameCommunity ? '*' : ' '} ${nb.name}${nb.dose ? ` @${nb.dose}` : ''} — ${nb.moa}`);
      }
    }
  }
  out.push('');
  out.push('(* = in the same community)');
  return out.join('\n');
}

export function register(program: Command): void {
  program
    .command('query')
    .description("which drugs share a community with DRUG? (community members, k nearest neighbours, closeness p-values)")
    .argument('<drug>', 'drug name (e.g. pert_iname / Compound Name) or Broad id')
    .requiredOption('-r, --run <dir>', 'output directory of `phenomap run`')
    .option('-k, --neighbours <k>', 'nearest neighbours to list', intOption('--neighbours', 1), 10)
    .option('--seed <n>', 'seed for the sampled null when the run is large', intOption('--seed'), 0)
    .option('--json', 'print the full result as JSON')
    .action(async (drug: string, flags: { run: string; neighbours: number; seed: number; json?: boolean }) => {
      const q = await queryDrug(flags.run, drug, { k: flags.neighbours, seed: flags.seed });
      process.stdout.write(flags.json ? `${JSON.stringify(q, null, 1)}\n` : `${formatQuery(q)}\n`);
    });
}
