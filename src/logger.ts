/**
 * Structured logs (pino). Keys and event payloads never reach them: routes log ids and counts only,
 * and these paths are redacted as a second line of defence.
 */
import pino, { type Logger } from 'pino';

export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: { paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'secret', '*.secret', 'body', '*.body'], censor: '[redacted]' },
  });
}
