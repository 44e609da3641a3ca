/**
 * Macau sampler speed at the issue's scale: 20,000 compounds × 500 features × 300 assays,
 * 2 % observed (≈120,000 cells), 32 latent dimensions, dense side information (Cholesky path).
 * Prints seconds per Gibbs sample (median after 2 warm-up sweeps) and peak RSS.
 *
 *   npx tsx bench/macau.ts [--compounds 20000] [--features 500] [--assays 300] [--density 0.02]
 *                          [--latent 32] [--samples 5] [--solver auto|cholesky|cg]
 */
import { Macau } from '../src/predict/macau.js';
import { plantedMacau } from '../src/predict/synthetic.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
function argStr(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? String(process.argv[i + 1]) : def;
}

const compounds = arg('compounds', 20000);
const features = arg('features', 500);
const assays = arg('assays', 300);
const density = arg('density', 0.02);
const latent = arg('latent', 32);
const samples = arg('samples', 5);
const solver = argStr('solver', 'auto') as 'auto' | 'cholesky' | 'cg';
const warmup = 2;

const t0 = performance.now();
const data = plantedMacau({ compounds, features, assays, rank: 8, density, noiseSd: 0.5, seed: 1, sideInfoShare: 0.8 });
const tGen = (performance.now() - t0) / 1000;
console.log(`data: ${compounds} compounds × ${features} features × ${assays} assays, ${data.Y.nnz} observed cells (${(100 * data.Y.nnz / (compounds * assays)).toFixed(2)} %), generated in ${tGen.toFixed(1)} s`);

const t1 = performance.now();
const model = new Macau({
  numLatent: latent, burnin: warmup, nsamples: samples, seed: 7, betaSolver: solver,
  noise: { kind: 'adaptive' }, keep: 1, keepLatent: false,
}).fit(data.Y, data.F);
const total = (performance.now() - t1) / 1000;
const per = model.trace.secondsPerSample;
const timed = per.slice(warmup).slice().sort((a, b) => a - b);
const median = timed[Math.floor(timed.length / 2)]!;
const maxRssMb = process.resourceUsage().maxRSS / 1024;
console.log(`latent ${latent}, solver ${solver}: per-sample seconds ${per.map((s) => s.toFixed(3)).join(' ')}`);
const cpu = model.trace.cpuSecondsPerSample.slice(warmup).sort((a, b) => a - b);
const cpuMedian = cpu[Math.floor(cpu.length / 2)]!;
console.log(`median seconds per Gibbs sample (after ${warmup} warm-up): wall ${median.toFixed(3)}, process CPU ${cpuMedian.toFixed(3)}`);
console.log(`load average during the run: ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')} (2 cores; other jobs inflate wall time)`);
console.log(`phase seconds (all sweeps): ${Object.entries(model.trace.phaseSeconds).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ")}`);
console.log(`fit total ${total.toFixed(1)} s (includes FᵀF once); peak RSS ${maxRssMb.toFixed(0)} MB`);
