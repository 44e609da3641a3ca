/**
 * The whole `phenomap run` (raw + PCA + ITML, --preset paper) against the same representations done
 * with scikit-learn (bench/peer_run_sklearn.py: z-score, PCA, ITML in numpy, then squared distances,
 * AffinityPropagation, enrichment and CSIF for each representation; 1 BLAS thread), side by side in
 * one run, alternating, several repeats, medians of whole-process wall times.
 *
 *   npm run build && npx tsx bench/run.ts [--cases lincs8,synth10k] [--repeats 3] [--dense10k]
 *
 * Cases: `lincs8` = the LINCS plate's labelled rows stacked 8 times with 1 % noise (n = 2,736 × 454;
 * the peer builds it with --scale 8 as peer_sklearn.py does, phenomap reads the same stack written
 * to CSV.gz); `synth10k` = `phenomap synth --rows 10000 --features 1000` (9,568 labelled rows),
 * one CSV read by both. phenomap runs `--clustering auto` (dense AP up to 5,000 rows, sparse AP on the
 * exact 50-NN graph above); --dense10k adds `--clustering dense` at 10,000 (the peer's algorithm).
 * The peer retries a non-converged AP with damping 0.7 then 0.9 (what a user does to get converged
 * labels); its time with sklearn's single call (--no-retry, unconverged labels) is printed too.
 * Ratios: peer / phenomap (> 1 = phenomap faster), against the peer's whole process (Python start
 * and imports included) and against its in-script total (load to last stage: the stricter one).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readProfiles, writeProfiles } from '../src/io/read.js';
import { writeSynthetic } from '../src/io/synthetic.js';
import { arg, hasFlag, plate, root, scaledProfiles } from './common.js';

const cases = arg('--cases', 'lincs8,synth10k').split(',');
const repeats = Number(arg('--repeats', '3'));
const scratch = arg('--scratch', join(root, '..', 'scratch', 'bench-run'));
mkdirSync(scratch, { recursive: true });
const peerScript = join(root, 'bench', 'peer_run_sklearn.py');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : 0.5 * (s[s.length / 2 - 1]! + s[s.length / 2]!);
}

function timedSpawn(cmd: string, args: string[]): { wall: number; stdout: string; maxRssMB: number } {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'MAXRSS_KB=%M', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${(r.stderr ?? '').split('\n').slice(-12).join('\n')}`);
  const m = /MAXRSS_KB=(\d+)/.exec(r.stderr ?? '');
  return { wall, stdout: r.stdout, maxRssMB: m ? Number(m[1]) / 1024 : NaN };
}

interface Case { name: string; phenomapInput: string; peerArgs: string[]; variants: { label: string; extra: string[] }[] }

async function prepareCase(name: string): Promise<Case> {
  if (name === 'lincs8') {
    const file = join(scratch, 'lincs_x8.csv.gz');
    if (!existsSync(file)) {
      const { profiles } = await readProfiles(plate);
      await writeProfiles(file, scaledProfiles(profiles, 8));
    }
    return { name: 'LINCS ×8 (2,736 × 454)', phenomapInput: file, peerArgs: [plate, '--scale', '8'], variants: [{ label: 'run (auto: dense AP)', extra: [] }] };
  }
  if (name === 'synth10k') {
    const file = join(scratch, 'synth_10000x1000.csv');
    if (!existsSync(file)) await writeSynthetic(file, { rows: 10000, features: 1000, moas: 40, plates: 27, seed: 0 });
    const variants = [{ label: 'run (auto: sparse AP, exact 50-NN)', extra: [] as string[] }];
    if (hasFlag('--dense10k')) variants.push({ label: 'run --clustering dense', extra: ['--clustering', 'dense'] });
    return { name: 'synthetic 10,000 × 1,000 (9,568 labelled)', phenomapInput: file, peerArgs: [file], variants };
  }
  throw new Error(`unknown case ${name}`);
}

const fmt = (x: number) => x.toFixed(2).padStart(8);
for (const name of cases) {
  const c = await prepareCase(name);
  const ours: Record<string, number[]> = {};
  const oursRss: Record<string, number[]> = {};
  const summaries: Record<string, any> = {};
  const peerWall: number[] = [], peerTotal: number[] = [], peerRss: number[] = [];
  let peerJson: any = null;
  for (let r = 0; r < repeats; r++) {
    // alternate: peer, then each phenomap variant
    const p = timedSpawn('/usr/bin/python3', [peerScript, ...c.peerArgs, '--label-col', 'Metadata_moa']);
    peerJson = JSON.parse(p.stdout);
    peerWall.push(p.wall);
    peerTotal.push(peerJson.total_s);
    peerRss.push(p.maxRssMB);
    for (const v of c.variants) {
      const out = join(scratch, `out-${name}-${v.extra.join('') || 'auto'}`);
      rmSync(out, { recursive: true, force: true });
      const m = timedSpawn(process.execPath, [join(root, 'bin', 'phenomap.js'), 'run', c.phenomapInput, '--preset', 'paper', '--label-col', 'Metadata_moa', '--out', out, '--quiet', ...v.extra]);
      (ours[v.label] ??= []).push(m.wall);
      (oursRss[v.label] ??= []).push(m.maxRssMB);
      summaries[v.label] = { ...JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')), timings: JSON.parse(readFileSync(join(out, 'timings.json'), 'utf8')).seconds };
    }
  }
  const noRetry = timedSpawn('/usr/bin/python3', [peerScript, ...c.peerArgs, '--label-col', 'Metadata_moa', '--no-retry']);
  const noRetryJson = JSON.parse(noRetry.stdout);

  console.log(`\n== ${c.name}: median of ${repeats} alternating runs (whole-process wall s; peak RSS MB)`);
  const pw = median(peerWall), pt = median(peerTotal);
  console.log(`peer (scikit-learn, AP retried to convergence): process ${pw.toFixed(2)} s, in-script ${pt.toFixed(2)} s, ${median(peerRss).toFixed(0)} MB; runs ${peerWall.map((x) => x.toFixed(1)).join(' / ')}`);
  console.log(`  stages (last run): ${Object.entries(peerJson.stages_s as Record<string, number>).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
  console.log(`  AP: ${Object.entries(peerJson.representations as Record<string, any>).map(([k, v]) => `${k} ${v.clusters} clusters / ${v.enriched} enriched, ${v.ap.map((t: any) => `${t.n_iter} it at ${t.damping}${t.converged ? '' : ' (not converged)'}`).join(' + ')}`).join('; ')}`);
  console.log(`peer with sklearn's single AP call (--no-retry, once): process ${noRetry.wall.toFixed(2)} s, in-script ${noRetryJson.total_s.toFixed(2)} s`);
  for (const v of c.variants) {
    const t = median(ours[v.label]!);
    const s = summaries[v.label];
    console.log(`phenomap ${v.label}: ${t.toFixed(2)} s (runs ${ours[v.label]!.map((x) => x.toFixed(1)).join(' / ')}), ${median(oursRss[v.label]!).toFixed(0)} MB`);
    console.log(`  speed-up vs peer process ${fmt(pw / t)}×   vs peer in-script ${fmt(pt / t)}×   vs single-call peer (process / in-script) ${fmt(noRetry.wall / t)}× / ${(noRetryJson.total_s / t).toFixed(2)}×`);
    console.log(`  stages: ${Object.entries(s.timings as Record<string, number>).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
    for (const [rep, r] of Object.entries(s.representations as Record<string, any>)) {
      const att = (r.apAttempts ?? []).map((a: any) => `${a.nIter} it at ${a.damping} (${a.ended})`).join(' + ');
      console.log(`  ${rep}: ${r.clusters} clusters / ${r.enrichedClusters} enriched; AP ${r.apIterations} it${att ? `: ${att}` : ''}`);
    }
  }
}
