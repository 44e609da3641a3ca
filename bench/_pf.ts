import { readNpyMatrix } from '../src/io/npy.js';
import { PCA } from '../src/represent/pca.js';
const X = readNpyMatrix(process.argv[2]!);
let last = 0; const acc: Record<string, number> = {};
(globalThis as any).__pf = (l: string) => { const f = process.resourceUsage().minorPageFault; acc[l] = (acc[l] ?? 0) + f - last; last = f; };
for (let r = 0; r < 24; r++) {
  for (const k in acc) delete acc[k];
  const f0 = process.resourceUsage().minorPageFault; last = f0;
  new PCA({ nComponents: 50 }).fitTransform(X);
  (globalThis as any).__pf('end');
  console.log(r + 1, process.resourceUsage().minorPageFault - f0, JSON.stringify(acc));
}
