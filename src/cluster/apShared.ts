/**
 * What the dense and the sparse affinity propagation share: parameter checks, the
 * non-convergence warning, the shape of a run's result, and adaptive damping (0.5 → 0.7 → 0.9 by default) for runs that
 * oscillate. Oscillation between near-duplicate points is the usual cause of non-convergence and
 * more damping is the standard cure (Frey & Dueck 2007). Instead of restarting from zero messages
 * at each damping, a run that is still oscillating after `oscillationCheck` iterations continues
 * from its current messages with the next damping — the adaptive-damping step of Wang, Zhang, Li,
 * Zhang & Guo, "Adaptive affinity propagation clustering" (Acta Automatica Sinica 33(12), 2007;
 * arXiv:0805.1096), who detect oscillation from the exemplar count over a window of iterations and
 * raise the damping without restarting. The detection rule is ours: the exemplar set changed in at
 * least half of the last `window` iterations (a run about to converge has stopped changing).
 * A first attempt that converges within `oscillationCheck` iterations never sees a check, so its
 * labels and iteration count are exactly a plain call's (sklearn's).
 */
import { InputError } from '../util/errors.js';
import { type Reporter, silentReporter } from '../util/log.js';

export interface DampingAttempt {
  damping: number;
  converged: boolean;
  /** Iterations run with this damping. */
  nIter: number;
  /** Exemplar candidates when this damping ended. */
  clusters: number;
  /** The run's iteration count when this damping took over (0 for the first one). */
  startIteration: number;
  /** Why it ended: convergence, oscillation detected (continued with the next damping), or maxIter. */
  ended: 'converged' | 'oscillating' | 'max-iter';
  /** Exemplar count range over the last `window` iterations before an oscillation switch. */
  exemplarRange?: [number, number];
}

interface ApOutcome {
  converged: boolean;
  nIter: number;
  damping: number;
  exemplars: ArrayLike<number>;
  warnings: string[];
  timings: { prepareMs: number; iterateMs: number; labelsMs: number };
}

/** Adaptive damping: when a damping's attempt is judged to oscillate, and over which window. */
export interface AdaptiveDampingOptions {
  /**
   * Iterations the first damping runs before an oscillation check may end it (default 100). Runs
   * converging earlier are untouched; 0 or ≥ maxIter turns early detection off (a damping then
   * gets maxIter iterations and the next one continues from its messages).
   */
  oscillationCheck?: number;
  /** Iterations each later damping runs before its own check (default 60). */
  laterCheck?: number;
  /** Window of the churn test (default 40). */
  window?: number;
}

/** The dampings to try: the requested one, then 0.7 and 0.9 when larger. */
export function dampingSchedule(damping: number | undefined, given?: number[]): number[] {
  const d = given ?? [damping ?? 0.5, 0.7, 0.9].filter((x, i, a) => i === 0 || x > a[0]!);
  if (d.length === 0) throw new InputError('affinity propagation: no damping values to try');
  return d;
}

/**
 * Drives the damping of one message-passing run. After each iteration the loop reports the
 * exemplar count K and how many points changed exemplar status; `after` answers whether to go on
 * (possibly with a new `damping`) or stop (the last damping's maxIter is spent). `lastIteration`
 * tells the loop that the coming iteration is the final one (its responsibilities are not needed).
 */
export class DampingController {
  readonly attempts: DampingAttempt[] = [];
  /** Messages for the reporter and warnings, in order. */
  readonly notes: string[] = [];
  damping: number;
  private stage = 0;
  private stageStart = 0;
  private readonly kRing: Int32Array;
  private readonly changedRing: Int32Array;
  private readonly checkFirst: number;
  private readonly checkLater: number;
  private readonly window: number;

  constructor(private readonly dampings: number[], private readonly maxIter: number, opts: AdaptiveDampingOptions = {}) {
    this.damping = dampings[0]!;
    this.window = opts.window ?? 40;
    const first = opts.oscillationCheck ?? 100;
    this.checkFirst = first <= 0 ? Infinity : first;
    this.checkLater = opts.laterCheck ?? 60;
    if (!(this.window >= 1) || !Number.isInteger(this.window)) throw new InputError(`affinity propagation: oscillation window must be an integer ≥ 1, got ${this.window}`);
    this.kRing = new Int32Array(this.window);
    this.changedRing = new Int32Array(this.window);
  }

  /** Whether more than one damping may be used (the loop then counts exemplar changes). */
  get adaptive(): boolean {
    return this.dampings.length > 1;
  }

  /** Whether iteration `it` (0-based over the whole run) will be the run's last. */
  lastIteration(it: number): boolean {
    return this.stage === this.dampings.length - 1 && it - this.stageStart === this.maxIter - 1;
  }

  /** After iteration `it` (not converged): 'go' on (this.damping may have changed) or 'stop'. */
  after(it: number, K: number, changed: number): 'go' | 'stop' {
    const s = it - this.stageStart + 1; // iterations done with this damping
    const slot = s % this.window;
    this.kRing[slot] = K;
    this.changedRing[slot] = changed;
    const hasNext = this.stage < this.dampings.length - 1;
    if (s >= this.maxIter) {
      if (!hasNext) return 'stop';
      this.escalate(it, K, 'max-iter');
      return 'go';
    }
    const check = this.stage === 0 ? this.checkFirst : this.checkLater;
    if (hasNext && s >= check && s >= this.window) {
      let churn = 0, lo = Infinity, hi = -Infinity;
      for (let w = 0; w < this.window; w++) {
        if (this.changedRing[w]! > 0) churn++;
        lo = Math.min(lo, this.kRing[w]!);
        hi = Math.max(hi, this.kRing[w]!);
      }
      if (2 * churn >= this.window) {
        this.escalate(it, K, 'oscillating', [lo, hi]);
        return 'go';
      }
    }
    return 'go';
  }

  /** Close the attempt list when the loop ends at iteration count `nIter`. */
  finish(nIter: number, K: number, converged: boolean): void {
    this.attempts.push({
      damping: this.damping, converged, nIter: nIter - this.stageStart, clusters: K, startIteration: this.stageStart,
      ended: converged ? 'converged' : 'max-iter',
    });
    if (converged && this.stage > 0) {
      const parts = this.attempts.map((a) => `${a.nIter} at ${a.damping}`).join(', ');
      this.notes.push(`AP converged with damping ${this.damping} after ${nIter} iterations in all (${parts})`);
    }
  }

  private escalate(it: number, K: number, why: 'oscillating' | 'max-iter', range?: [number, number]): void {
    const next = this.dampings[this.stage + 1]!;
    const n = it + 1 - this.stageStart;
    this.attempts.push({ damping: this.damping, converged: false, nIter: n, clusters: K, startIteration: this.stageStart, ended: why, exemplarRange: range });
    this.notes.push(why === 'oscillating'
      ? `AP oscillated with damping ${this.damping} (not converged after ${n} iterations, exemplar count between ${range![0]} and ${range![1]} over the last ${this.window}); continuing from the current messages with damping ${next}`
      : `AP did not converge with damping ${this.damping} in ${n} iterations; continuing from the current messages with damping ${next}`);
    this.stage++;
    this.stageStart = it + 1;
    this.damping = next;
    this.kRing.fill(0);
    this.changedRing.fill(0);
  }
}

/**
 * The dense and the sparse AP's `…WithRetry`: check every damping of the schedule, prepare S once,
 * then one run whose damping adapts (see DampingController); its notes go to the reporter and in
 * front of the warnings.
 */
export function prepareAndAdapt<P, R extends ApOutcome & { attempts: DampingAttempt[] }>(
  opts: { damping?: number; dampings?: number[]; maxIter?: number; reporter?: Reporter } & AdaptiveDampingOptions,
  validate: (damping: number) => void,
  prepare: (firstDamping: number) => P,
  run: (prepared: P, controller: DampingController, prepareMs: number) => R,
): R {
  const dampings = dampingSchedule(opts.damping, opts.dampings);
  for (const d of dampings) validate(d);
  const reporter = opts.reporter ?? silentReporter;
  const t0 = performance.now();
  const prepared = prepare(dampings[0]!);
  const prepareMs = performance.now() - t0;
  const ctl = new DampingController(dampings, opts.maxIter ?? 200, opts);
  const res = run(prepared, ctl, prepareMs);
  for (const m of ctl.notes) (m.startsWith('AP converged') ? reporter.info(m) : reporter.warn(m));
  if (!res.converged) for (const w of res.warnings) reporter.warn(w);
  return { ...res, warnings: [...ctl.notes, ...res.warnings.filter((w) => !ctl.notes.includes(w))] };
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

/** The fields of a run's result both APs fill the same way (each adds its own). */
export interface ApRunFields {
  labels: Int32Array;
  exemplars: Int32Array;
  nIter: number;
  converged: boolean;
  damping: number;
  warnings: string[];
  exemplarTrace: Int32Array;
  timings: { prepareMs: number; iterateMs: number; labelsMs: number };
  attempts: DampingAttempt[];
}

/** sklearn's degenerate shortcut (all points alike, or one point): labels without message passing. */
export function degenerateRun(
  degenerate: { labels: Int32Array; exemplars: Int32Array }, damping: number, warnings: string[], prepareMs: number,
): ApRunFields {
  return {
    labels: degenerate.labels, exemplars: degenerate.exemplars, nIter: 0, converged: true, damping, warnings,
    exemplarTrace: new Int32Array(0), timings: { prepareMs, iterateMs: 0, labelsMs: 0 },
    attempts: [{ damping, converged: true, nIter: 0, clusters: degenerate.exemplars.length, startIteration: 0, ended: 'converged' }],
  };
}

/**
 * A run's result once message passing has ended with exemplar flags `E`: every label −1 when no
 * exemplar emerged, else `label()`'s assignment, with the unconverged warning where it applies.
 */
export function finishRun(
  n: number, out: { E: Uint8Array; nIter: number; converged: boolean; trace: Int32Array },
  ctl: DampingController, reporter: Reporter, warnings: string[], timings: ApRunFields['timings'],
  label: () => { labels: Int32Array; exemplars: Int32Array },
): ApRunFields {
  let K = 0;
  for (let i = 0; i < n; i++) K += out.E[i]!;
  const common = { nIter: out.nIter, damping: ctl.damping, warnings, exemplarTrace: out.trace, timings, attempts: ctl.attempts };
  warnUnconverged(warnings, reporter, ctl.damping, out.nIter, out.converged && K > 0, K);
  if (K === 0) return { ...common, labels: new Int32Array(n).fill(-1), exemplars: new Int32Array(0), converged: false };
  const t0 = performance.now();
  const { labels, exemplars } = label();
  timings.labelsMs = performance.now() - t0;
  return { ...common, labels, exemplars, converged: out.converged };
}

/** The plain (one damping) call of either AP: prepare, one run, the result without its attempt list. */
export function runOnce<P, R extends { attempts: DampingAttempt[] }>(
  opts: { damping?: number; maxIter?: number },
  prepare: () => P,
  run: (prepared: P, controller: DampingController, prepareMs: number) => R,
): Omit<R, 'attempts'> {
  const t0 = performance.now();
  const prepared = prepare();
  const { attempts: _, ...res } = run(prepared, new DampingController([opts.damping ?? 0.5], opts.maxIter ?? 200), performance.now() - t0);
  return res;
}
