import pino, { Logger } from 'pino';
import { LoggerService } from '@nestjs/common';

/** Header and field names that never reach a log: any value under them is replaced by "[redacted]". */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["x-goog-api-key"]',
  'req.headers["x-tollgate-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers["x-goog-api-key"]',
  'headers["x-tollgate-key"]',
  'api_key',
  'apiKey',
  'key',
  'provider_key',
  '*.api_key',
  '*.apiKey',
  '*.key',
];

/** Removes key-like query parameters (`?key=`, `?api_key=`, `?token=`...) from a URL before it is logged. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:key|api_key|apikey|access_token|token|x-api-key|x-goog-api-key)=)[^&#]*/gi, '$1[redacted]');
}

let root: Logger | null = null;

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  root = pino(
    {
      level,
      base: { service: 'tollgate' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  return root;
}

export function rootLogger(): Logger {
  if (!root) root = createLogger(process.env.LOG_LEVEL || 'info');
  return root;
}

/** Nest's logger interface on top of pino: structured JSON lines. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
}
