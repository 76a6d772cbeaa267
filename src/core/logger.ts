/**
 * @module core/logger
 * The platform logger (pino, JSON lines on stderr).
 */
import { pino, destination, type Logger } from 'pino';

export type { Logger };

export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino(
    {
      name: options.name ?? 'nubes',
      level: options.level ?? 'info',
      redact: {
        paths: ['*.secret', '*.password', '*.secretKey', '*.token', '*.authorization'],
        censor: '[redacted]',
      },
    },
    destination({ fd: 2, sync: false }),
  );
}

/** A logger that discards everything, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
