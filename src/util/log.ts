/**
 * How library code talks to the user without printing directly: messages, warnings and
 * progress go to a Reporter. The CLI supplies one bound to the terminal (quiet in CI or with
 * --quiet); library users get a silent one unless they pass their own.
 */
export interface Progress {
  tick(done: number, note?: string): void;
  done(note?: string): void;
}

export interface Reporter {
  info(msg: string): void;
  warn(msg: string): void;
  /** Start a progress indicator for a long step of `total` units. */
  progress(label: string, total: number): Progress;
}

const noProgress: Progress = { tick() {}, done() {} };

/** Collects warnings (so they can be written into summary.json) and otherwise stays silent. */
export class CollectingReporter implements Reporter {
  readonly warnings: string[] = [];
  readonly messages: string[] = [];
  info(msg: string): void {
    this.messages.push(msg);
  }
  warn(msg: string): void {
    this.warnings.push(msg);
  }
  progress(): Progress {
    return noProgress;
  }
}

export const silentReporter: Reporter = {
  info() {},
  warn() {},
  progress: () => noProgress,
};
