import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadProfileConfig, profileConfigJsonSchema, runProfile } from '../../workflow/index.js';
import { terminalReporter } from '../terminal.js';
import { printLines } from './preprocessShared.js';

export function register(program: Command): void {
  program
    .command('profile')
    .description('a whole profiling run from one config file (YAML or JSON): per plate aggregate → annotate → normalise, then across plates feature selection → a Parquet dataset partitioned by plate → consensus')
    .argument('[config]', 'config file (see examples/singlecell/profile.yaml and docs/profile-config.schema.json)')
    .option('--schema <file>', 'write the config\'s JSON schema to this file and stop')
    .option('--output <dir>', 'output folder (default: the config\'s output)')
    .option('--overwrite', 'replace an existing non-empty output folder (whole)')
    .option('--json', 'print the run report as one JSON object')
    .option('-q, --quiet', 'nothing on stderr but errors')
    .action(async (configPath: string | undefined, flags: { schema?: string; output?: string; overwrite?: boolean; json?: boolean; quiet?: boolean }) => {
      if (flags.schema) {
        writeFileSync(flags.schema, JSON.stringify(profileConfigJsonSchema(), null, 2) + '\n');
        return printLines([`wrote ${flags.schema}`]);
      }
      if (!configPath) throw new (await import('../../util/errors.js')).UsageError('profile needs a config file (or --schema FILE)');
      const loaded = loadProfileConfig(configPath);
      const config = flags.output ? { ...loaded, output: resolve(flags.output) } : loaded;
      const reporter = terminalReporter({ quiet: flags.quiet || flags.json });
      const r = await runProfile(config, { reporter, overwrite: flags.overwrite });
      if (flags.json) return printLines([JSON.stringify(r, null, 2)]);
      printLines([
        `profile: ${r.sources.length} source(s), ${r.plates.length} plate(s) in ${r.seconds.toFixed(1)} s`,
        ...r.plates.map((p) => `  ${p.plate}: ${p.wells} wells, ${p.cells} cells` +
          (p.annotation ? `; annotated ${p.annotation.matched}/${p.annotation.matched + p.annotation.unmatched}` : '') +
          (p.normalization ? `; normalised against ${p.normalization.referenceRows} reference wells` : '')),
        r.featureSelect ? `feature selection: ${r.featureSelect.featuresIn} → ${r.featureSelect.kept} features (${r.featureSelect.operations.map((o) => `${o.operation} −${o.removed}`).join(', ')})` : 'feature selection: none',
        `profiles: ${r.profiles.rows} wells × ${r.profiles.features} features → ${r.profiles.dataset} (${r.profiles.files.length} partition(s))`,
        ...(r.consensus ? [`consensus (${r.consensus.method} by ${r.consensus.strata.join(' + ')}): ${r.consensus.nGroups} profiles → ${r.consensus.file}`] : []),
        ...(r.cluster ? [`clusters (${r.cluster.method} on the ${r.cluster.knn.k}-NN graph of the ${r.cluster.table}, ${r.cluster.knn.method}, ${r.cluster.knn.shards} shard(s)): ${r.cluster.rows} profiles → ${r.cluster.clusters} clusters` +
          (r.cluster.enrichment ? `, ${r.cluster.enrichment.enrichedClusters} enriched in ${r.cluster.enrichment.labelColumn}` : '')] : []),
        `report: ${r.output}/profile_report.html (and .json)`,
      ]);
    });
}
