/**
 * The study's ITML enrichment ratio across constraint seeds on the bundled LINCS plate
 * (`--preset paper`: 20 + 20 constraints, metric-learn bounds). The reference reports
 * 0.327 ± 0.029 over seeds; this prints every seed's ratio, the mean ± sd and the share of
 * seeds inside that ±1 sd band (≈ 68 % expected if phenomap's spread matches the reference's).
 *
 *   npx tsx bench/itml-seeds.ts [--seeds 50]
 */
import { readProfiles } from '../src/io/read.js';
import { analyse } from '../src/pipeline/analyse.js';
import { presetParameters } from '../src/pipeline/params.js';
import { arg, plate } from './common.js';

const seeds = Number(arg('--seeds', '50'));
const [lo, hi] = [0.327 - 0.029, 0.327 + 0.029];
const { profiles } = await readProfiles(plate);
const ratios: number[] = [];
for (let seed = 0; seed < seeds; seed++) {
  const p = presetParameters('paper');
  p.seed = seed;
  p.representations = ['itml'];
  const r = analyse(profiles, p).representations.itml!;
  ratios.push(r.enrichment.enrichmentRatio);
  console.log(`seed ${String(seed).padStart(3)}: ${r.ap.exemplars.length} clusters, ratio ${r.enrichment.enrichmentRatio.toFixed(4)}`);
}
const mean = ratios.reduce((a, b) => a + b, 0) / seeds;
const sd = Math.sqrt(ratios.reduce((a, b) => a + (b - mean) ** 2, 0) / (seeds - 1));
const inside = ratios.filter((r) => r >= lo && r <= hi).length;
console.log(`\n${seeds} seeds: ratio ${mean.toFixed(3)} ± ${sd.toFixed(3)} (reference 0.327 ± 0.029); ` +
  `${inside}/${seeds} (${((100 * inside) / seeds).toFixed(0)} %) inside [${lo.toFixed(3)}, ${hi.toFixed(3)}]`);
process.exit(0);
