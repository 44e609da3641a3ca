/** `phenomap report --run DIR`: figures and the self-contained report.html of a finished run. */
import type { Command } from 'commander';
import { Option } from 'commander';
import { terminalReporter } from '../terminal.js';
import { intOption } from '../options.js';

interface ReportFlags {
  run: string;
  topMoas: number;
  embedding: 'tsne' | 'umap' | 'both';
  subset: 'all' | 'top-moas';
  seed: number;
  neighbours: number;
  force?: boolean;
  quiet?: boolean;
  controls?: string;
  profiles?: string[];
  representation?: string;
}

export function register(program: Command): void {
  program
    .command('report')
    .description('draw the figures and write one offline report.html for a run directory')
    .requiredOption('--run <dir>', 'run directory written by `phenomap run`')
    .option('--top-moas <k>', 'MoAs coloured individually in the embeddings', intOption('--top-moas', 1), 10)
    .addOption(new Option('--embedding <method>', 'embedding method').choices(['tsne', 'umap', 'both']).default('tsne'))
    .addOption(new Option('--subset <rows>', 'embed all rows, or only the rows of the top MoAs (the study\'s figure)').choices(['all', 'top-moas']).default('all'))
    .option('--seed <n>', 'seed of the embeddings', intOption('--seed'), 0)
    .option('--neighbours <k>', 'nearest compounds the search lists and highlights', intOption('--neighbours', 1), 10)
    .option('--representation <name>', 'representation of the search box\'s first answer (as `query --representation`; default raw)')
    .option('--controls <query>', 'negative-control wells for the activity calls (as `query --controls`; default: detected)')
    .option('--profiles <tables...>', "the run's input table, for control wells the run left out (as `query --profiles`)")
    .option('--force', 'recompute cached embeddings (embedding_*.npy)')
    .option('-q, --quiet', 'nothing on stderr but errors')
    .action(async (f: ReportFlags) => {
      const reporter = terminalReporter({ quiet: f.quiet });
      const t0 = Date.now();
      const { writeReportWithAnswers } = await import('../../repurpose/report.js');
      const r = await writeReportWithAnswers(f.run, {
        topMoas: f.topMoas,
        embedding: f.embedding,
        embeddingSubset: f.subset,
        seed: f.seed,
        neighbours: f.neighbours,
        force: f.force,
        reporter,
      }, { controls: f.controls, profiles: f.profiles, representation: f.representation });
      if (!f.quiet) {
        reporter.info(`figures (SVG + PNG) in ${f.run}/figures; embeddings: ${r.embeddings.map((e) => `${e.label}${e.cached ? ' (cached)' : ''}`).join(', ') || 'none'}`);
        reporter.info(`report ${(r.bytes / 1e6).toFixed(1)} MB in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      }
      process.stdout.write(`${r.path}\n`);
    });
}
