/**
 * Text output in bounded pieces. V8 cannot make a string longer than 2^29 − 24 characters
 * (≈ 537 M): the whole of a wide table as text (7,680 × 5,792 values ≈ 0.8 GB) — or even one
 * block of 1,024 rows once a table has ≈ 27,000 columns — ends in "Invalid string length".
 * Writers format one line at a time and hand their sink pieces of at most `chunkChars`
 * characters (a single longer line goes alone), so no string grows with the table.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';

/** Characters per piece handed to a sink: large enough for fast writes, far below V8's limit. */
export const TEXT_CHUNK_CHARS = 1 << 22;

/** Where the pieces go: a file descriptor (sync) or a stream honouring back-pressure (async). */
export type TextSink = (piece: string) => void | Promise<void>;

export class TextChunks {
  private parts: string[] = [];
  private size = 0;

  constructor(
    private readonly sink: TextSink,
    private readonly chunkChars = TEXT_CHUNK_CHARS,
  ) {
    if (!(Number.isInteger(chunkChars) && chunkChars >= 1)) throw new RangeError(`chunkChars must be a positive integer, got ${chunkChars}`);
  }

  /**
   * Queue one line (its line break is added). When it would take the queued text past
   * chunkChars, the text queued before it goes to the sink first; the returned promise (if
   * any) is the sink's, to be awaited before the next line.
   */
  line(s: string): void | Promise<void> {
    const add = s.length + 1;
    let pending: void | Promise<void> = undefined;
    if (this.size > 0 && this.size + add > this.chunkChars) pending = this.flush();
    this.parts.push(s);
    this.size += add;
    return pending;
  }

  /** Hand whatever is queued to the sink. */
  flush(): void | Promise<void> {
    if (this.size === 0) return;
    const piece = this.parts.join('\n') + '\n';
    this.parts = [];
    this.size = 0;
    return this.sink(piece);
  }
}

/**
 * A text file as an async sink that honours the stream's back-pressure, gzip-compressed at
 * `gzipLevel` when one is given; `close` ends the stream and resolves once the file is written.
 */
export function textFileSink(path: string, gzipLevel?: number): { write: (piece: string) => Promise<void>; close: () => Promise<void> } {
  const file = createWriteStream(path);
  let out: Writable = file;
  if (gzipLevel !== undefined) {
    const gz = createGzip({ level: gzipLevel });
    gz.pipe(file);
    out = gz;
  }
  return {
    write: async (piece) => {
      if (!out.write(piece)) await once(out, 'drain');
    },
    close: async () => {
      out.end();
      await finished(file);
    },
  };
}
