/**
 * @module cli/progress
 * Transfer progress: a cli-progress bar on stderr when stderr is a terminal, nothing otherwise (logs and
 * pipes stay clean), and a pass-through stream that counts bytes as they flow.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { CliIo } from './cli-io.js';
import { formatBytes } from './output.js';

/** Receives byte counts as a transfer goes. */
export interface ProgressSink {
  add(bytes: number): void;
  stop(): void;
}

const silent: ProgressSink = { add: () => undefined, stop: () => undefined };

/** A progress bar labelled `label` for `totalBytes` (a bar without total when unknown). */
export async function createProgress(
  io: CliIo,
  label: string,
  totalBytes: number | undefined,
): Promise<ProgressSink> {
  if (!io.stderrIsTty) return silent;
  const { default: cliProgress } = await import('cli-progress');
  // stderrIsTty is true only for the real process.stderr, which the bar drives (cursor moves, clears).
  const bar = new cliProgress.SingleBar(
    {
      stream: io.stderr as NodeJS.WriteStream,
      format: `${label} [{bar}] {percentage}% {done}/{size} {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: false,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  const total = totalBytes ?? 0;
  let done = 0;
  bar.start(Math.max(total, 1), 0, {
    done: formatBytes(0),
    size: totalBytes === undefined ? '?' : formatBytes(total),
  });
  return {
    add(bytes) {
      done += bytes;
      bar.update(total > 0 ? done : 0, { done: formatBytes(done) });
    },
    stop() {
      if (total > 0) bar.update(total, { done: formatBytes(done) });
      bar.stop();
    },
  };
}

/** A pass-through stream that reports every chunk's size to `sink`. */
export function countingStream(sink: ProgressSink): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      sink.add(chunk.length);
      callback(null, chunk);
    },
  });
}
