/**
 * What the dense and the sparse affinity propagation share: parameter checks, the
 * non-convergence warning, and retrying with higher damping (0.5 → 0.7 → 0.9 by default) until
 * it converges. Oscillation between near-duplicate points is
 * the usual cause of non-convergence and more damping is the standard cure (Frey & Dueck 2007).
 */
import { InputError } from '../util/errors.js';
import { type Reporter, silentReporter } from '../util/log.js';

export interface DampingAttempt {
  damping: number;
  converged: boolean;
  nIter: number;
  clusters: number;
}

interface ApOutcome {
  converged: boolean;
  nIter: number;
  damping: number;
  exemplars: ArrayLike<number>;
  warnings: string[];
  timings: { prepareMs: number; iterateMs: number; labelsMs: number };
}

/** The dampings to try: the requested one, then 0.7 and 0.9 when larger. */
export function dampingSchedule(damping: number | undefined, given?: number[]): number[] {
  const d = given ?? [damping ?? 0.5, 0.7, 0.9].filter((x, i, a) => i === 0 || x > a[0]!);
  if (d.length === 0) throw new InputError('affinity propagation: no damping values to try');
  return d;
}

/**
 * Run `attempt(damping, index)` for each damping until one converges (the last is kept either
 * way); report each retry, and return the last result with the attempts, the retry messages in
 * front of its warnings, and timings summed over the attempts.
 */
export function retryWithDamping<R extends ApOutcome>(
  dampings: number[], maxIter: number, reporter: Reporter = silentReporter,
  attempt: (damping: number, index: number) => R,
): R & { attempts: DampingAttempt[] } {
  const attempts: DampingAttempt[] = [];
  const carried: string[] = [];
  let res: R | undefined;
  let iterateMs = 0, labelsMs = 0, prepareMs = 0;
  for (let a = 0; a < dampings.length; a++) {
    const d = dampings[a]!;
    res = attempt(d, a);
    prepareMs += res.timings.prepareMs;
    iterateMs += res.timings.iterateMs;
    labelsMs += res.timings.labelsMs;
    attempts.push({ damping: d, converged: res.converged, nIter: res.nIter, clusters: res.exemplars.length });
    if (res.converged || a === dampings.length - 1) break;
    const msg = `AP did not converge with damping ${d} in ${maxIter} iterations; retrying with ${dampings[a + 1]}`;
    carried.push(msg);
    reporter.warn(msg);
  }
  const last = res!;
  if (!last.converged) {
    for (const w of last.warnings) reporter.warn(w);
  } else if (attempts.length > 1) {
    const msg = `AP converged with damping ${last.damping} after ${last.nIter} iterations`;
    carried.push(msg);
    reporter.info(msg);
  }
  return {
    ...last,
    warnings: [...carried, ...last.warnings.filter((w) => !carried.includes(w))],
    attempts,
    timings: { prepareMs, iterateMs, labelsMs },
  };
}

/**
 * The dense and the sparse AP's `…WithRetry`: check every damping of the schedule, prepare S once
 * (preference and noise do not depend on the damping, so each attempt equals a fresh call with
 * that damping and the same noise), then `retryWithDamping`. The preparation time is charged to
 * the first attempt.
 */
export function prepareOnceAndRetry<P, R extends ApOutcome>(
  opts: { damping?: number; dampings?: number[]; maxIter?: number; reporter?: Reporter },
  validate: (damping: number) => void,
  prepare: (firstDamping: number) => P,
  run: (prepared: P, damping: number, prepareMs: number) => R,
): R & { attempts: DampingAttempt[] } {
  const dampings = dampingSchedule(opts.damping, opts.dampings);
  for (const d of dampings) validate(d);
  const t0 = performance.now();
  const prepared = prepare(dampings[0]!);
  const prepareMs = performance.now() - t0;
  return retryWithDamping(dampings, opts.maxIter ?? 200, opts.reporter, (d, a) => run(prepared, d, a === 0 ? prepareMs : 0));
}

/** Parameter checks shared by the dense and the sparse AP (`what` names the caller in errors). */
export function validateApParams(what: string, opts: { damping?: number; maxIter?: number; convergenceIter?: number }): void {
  const d = opts.damping ?? 0.5;
  if (!(d >= 0.5 && d < 1)) throw new InputError(`${what}: damping must be in [0.5, 1), got ${d}`);
  const mi = opts.maxIter ?? 200, ci = opts.convergenceIter ?? 15;
  if (!Number.isInteger(mi) || mi < 1) throw new InputError(`${what}: maxIter must be an integer ≥ 1, got ${mi}`);
  if (!Number.isInteger(ci) || ci < 1) throw new InputError(`${what}: convergenceIter must be an integer ≥ 1, got ${ci}`);
}

/**
 * The warning for a run that ended without convergence (K = exemplars found at the end), pushed to
 * `warnings` and the reporter; none when it converged.
 */
export function warnUnconverged(
  warnings: string[], reporter: Reporter, damping: number, maxIter: number, converged: boolean, K: number,
): void {
  if (converged && K > 0) return;
  const msg = K === 0
    ? `affinity propagation did not converge with damping ${damping} in ${maxIter} iterations and found no exemplars: every label is -1`
    : `affinity propagation did not converge with damping ${damping} in ${maxIter} iterations; clusters may be degenerate`;
  warnings.push(msg);
  reporter.warn(msg);
}
