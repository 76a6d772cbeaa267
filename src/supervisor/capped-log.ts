/**
 * @module supervisor/capped-log
 * A pass-through stream that stops after a byte budget and writes one truncation note, so that a script
 * printing in a loop cannot fill the disk with its log. What is past the budget is still read (and dropped),
 * so the script never blocks on a full pipe.
 */
import { Transform, type TransformCallback } from 'node:stream';

/** Default log budget of one job. */
export const DEFAULT_MAX_LOG_BYTES = 10 * 1024 * 1024;

/** Passes at most `maxBytes` through, then one truncation note, then nothing (while still draining). */
export class CappedLog extends Transform {
  private remaining: number;
  private truncated = false;

  /** @param mirror also receives everything kept (the standalone supervisor echoes the log to stderr). */
  constructor(
    private readonly maxBytes: number,
    private readonly mirror: NodeJS.WritableStream | null = null,
  ) {
    super();
    this.remaining = maxBytes;
  }

  /** Whether the budget was exceeded. */
  get wasTruncated(): boolean {
    return this.truncated;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.truncated) {
      callback();
      return;
    }
    let kept = chunk;
    if (chunk.length > this.remaining) {
      kept = chunk.subarray(0, this.remaining);
      this.truncated = true;
    }
    this.remaining -= kept.length;
    if (kept.length > 0) {
      this.push(kept);
      this.mirror?.write(kept);
    }
    if (this.truncated) {
      const note = `\n[nubes] log truncated: the job wrote more than ${this.maxBytes} bytes\n`;
      this.push(note);
      this.mirror?.write(note);
    }
    callback();
  }
}
