/**
 * `phenomap query NAME… --run DIR`: the compound-level repurposing answer (src/repurpose):
 * activity verdict first, ranked neighbouring compounds, the community. `--wells` keeps the
 * earlier per-well listing (src/pipeline/query.ts).
 */
import { Option, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import { queryDrug, type QueryResult } from '../../pipeline/query.js';
import { COMPOUND_PROFILES, type CompoundProfile, parseQueryList, queryCompounds } from '../../repurpose/answer.js';
import { answersToCsv, answersToJson, formatAnswers } from '../../repurpose/format.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { InputError, UsageError } from '../../util/errors.js';
import { intOption, numberOption } from '../options.js';
import { terminalReporter } from '../terminal.js';

function formatWells(q: QueryResult): string {
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

interface QueryFlags {
  run: string;
  file?: string;
  neighbours: number;
  representation?: string;
  controls?: string;
  profiles?: string[];
  consensus: 'median' | 'modz';
  compoundProfile: CompoundProfile;
  nullSize: number;
  threshold: number;
  seed: number;
  json?: boolean;
  csv?: string;
  wells?: boolean;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command('query')
    .description('what acts like a compound? its activity call against the negative controls first, then the ranked neighbouring compounds and its community')
    .argument('[names...]', 'compound names (e.g. Compound Name / pert_iname) or Broad ids')
    .requiredOption('-r, --run <dir>', 'output directory of `phenomap run`')
    .option('--file <list>', 'more compound names, one per line (# starts a comment line)')
    .option('-k, --neighbours <k>', 'neighbouring compounds to list', intOption('--neighbours', 1), 10)
    .option('--representation <name>', 'representation ranking the neighbours and giving the community (raw, pca, itml; default raw)')
    .option('--controls <query>', 'negative-control wells, e.g. "Metadata_pert_type == control" (default: detected)')
    .option('--profiles <tables...>', "the run's input table, for the control wells when the run left them out (default: the table recorded in summary.json)")
    .addOption(new Option('--consensus <method>', 'replicate wells → treatment profile').choices(['median', 'modz']).default('median'))
    .addOption(new Option('--compound-profile <how>', 'best-dose: compounds as similar as their closest doses; pooled: one profile per compound').choices([...COMPOUND_PROFILES]).default('best-dose'))
    .option('--null-size <n>', 'null samples of the activity mAP p-values', intOption('--null-size', 1), 10_000)
    .option('--threshold <q>', 'q below which a compound is called active', numberOption('--threshold', 1e-9, 0.999), 0.05)
    .option('--seed <n>', 'seed of the nulls', intOption('--seed'), 0)
    .option('--json', 'print the answers as JSON')
    .option('--csv <file>', 'also write the answers as CSV (one row per neighbour)')
    .option('--wells', 'the per-well listing of earlier versions (one name; every replicate well, all representations)')
    .option('-q, --quiet', 'nothing on stderr but errors')
    .action(async (names: string[], flags: QueryFlags) => {
      const queries = [...names];
      if (flags.file) {
        let text: string;
        try {
          text = readFileSync(flags.file, 'utf8');
        } catch {
          throw new InputError(`${flags.file}: query list not found or unreadable`);
        }
        queries.push(...parseQueryList(text, flags.file));
      }
      if (!queries.length) throw new UsageError('give compound names or --file <list>');
      if (flags.wells) {
        if (queries.length !== 1) throw new UsageError('--wells answers one name at a time');
        const q = await queryDrug(flags.run, queries[0]!, { k: flags.neighbours, seed: flags.seed });
        process.stdout.write(flags.json ? `${JSON.stringify(q, null, 1)}\n` : `${formatWells(q)}\n`);
        return;
      }
      const reporter = terminalReporter({ quiet: flags.quiet || flags.json });
      const { context, answers } = await queryCompounds(flags.run, queries, {
        k: flags.neighbours, representation: flags.representation, controls: flags.controls, profiles: flags.profiles,
        consensus: flags.consensus, compoundProfile: flags.compoundProfile, nullSize: flags.nullSize, threshold: flags.threshold,
        seed: flags.seed, reporter,
      });
      const failed = answers.filter((a) => a.status !== 'ok' && a.status !== 'not-in-run');
      if (queries.length === 1 && failed.length === 1 && !flags.json) throw new InputError(failed[0]!.verdict);
      if (flags.csv) writeFileAtomic(flags.csv, answersToCsv(answers));
      process.stdout.write(flags.json ? answersToJson(context, answers) : `${formatAnswers(context, answers)}\n`);
      if (flags.csv && !flags.json) process.stdout.write(`wrote ${flags.csv}\n`);
      if (failed.length) throw new InputError(`${failed.length} of ${queries.length} queries had no answer: ${failed.map((a) => `"${a.query}" (${a.status})`).join(', ')}`);
    });
}
