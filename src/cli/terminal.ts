/**
 * The Reporter the CLI hands to library code: warnings on stderr ("warning: …") and messages on
 * stderr unless quiet (-q: nothing on stderr but errors; warnings are still written into the
 * outputs that keep them, e.g. summary.json), and a progress bar only where a person is watching
 * (stderr is a TTY, not --quiet, not CI) so logs and pipes stay clean.
 */
import cliProgress from 'cli-progress';
import type { Progress, Reporter } from '../util/log.js';

export interface TerminalOptions {
  quiet?: boolean;
}

const noProgress: Progress = { tick() {}, done() {} };

export function terminalReporter(opts: TerminalOptions = {}): Reporter {
  const quiet = !!opts.quiet;
  const showBars = !quiet && !!process.stderr.isTTY && !process.env.CI;
  return {
    info(msg: string): void {
      if (!quiet) process.stderr.write(`${msg}\n`);
    },
    warn(msg: string): void {
      if (!quiet) process.stderr.write(`warning: ${msg}\n`);
    },
    progress(label: string, total: number): Progress {
      if (!showBars || !(total > 0)) return noProgress;
      const bar = new cliProgress.SingleBar(
        { format: `${label} [{bar}] {percentage}% {value}/{total} {note}`, stream: process.stderr, clearOnComplete: true, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0, { note: '' });
      let finished = false;
      return {
        tick(done: number, note?: string): void {
          if (!finished) bar.update(Math.min(done, total), { note: note ?? '' });
        },
        done(): void {
          if (finished) return;
          finished = true;
          bar.stop();
        },
      };
    },
  };
}
