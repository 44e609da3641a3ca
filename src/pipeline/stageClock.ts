/**
 * Wall time and memory per pipeline stage. Memory is the process's peak resident set so far
 * (getrusage's maxrss, which includes worker threads and native allocations such as DuckDB's and
 * HNSW's), read when each stage ends: the first stage whose value jumps is the one that set the
 * peak — what `bench/scale.ts` and summary.json report per size.
 */
/** The process's peak resident set so far, in MB. */
export function peakRssNowMB(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

export class StageClock {
  /** Seconds per stage, summed over repeated stages (one per representation). */
  readonly timings: Record<string, number> = {};
  /**
   * Peak RSS of the process (MB) when each stage ended, keyed `scope.stage` while a scope (the
   * representation being clustered) is set, in the order the stages ran.
   */
  readonly peakRssMB: Record<string, number> = {};
  scope: string | undefined;

  time<T>(key: string, fn: () => T): T {
    const t0 = performance.now();
    const out = fn();
    this.record(key, (performance.now() - t0) / 1000);
    return out;
  }

  /** Add `seconds` to a stage measured elsewhere (e.g. an async read) and note the peak RSS now. */
  record(key: string, seconds: number): void {
    this.timings[key] = (this.timings[key] ?? 0) + seconds;
    this.peakRssMB[this.scope ? `${this.scope}.${key}` : key] = peakRssNowMB();
  }

  /** Time an async stage (reading, writing). */
  async timeAsync<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    const out = await fn();
    this.record(key, (performance.now() - t0) / 1000);
    return out;
  }
}
