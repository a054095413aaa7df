/**
 * Structured logs (pino). Keys and event payloads never reach them: routes log ids and counts only,
 * request lines carry the path without its query string (filters such as `actor=` or `q=` are
 * personal data), and these paths are redacted as a second line of defence.
 */
import pino, { type DestinationStream, type Logger } from 'pino';

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'secret', '*.secret', 'body', '*.body'], censor: '[redacted]' },
      serializers: { req: requestLine },
    },
    destination,
  );
}

interface LoggedRequest {
  id?: unknown;
  method?: string;
  url?: string;
  ip?: string;
}

/** What a request log line says about the request: never headers, body or query string. */
export function requestLine(req: LoggedRequest): { id: unknown; method: string | undefined; path: string | undefined; remoteAddress: string | undefined } {
  const url = req.url;
  return { id: req.id, method: req.method, path: url === undefined ? undefined : url.split('?', 1)[0], remoteAddress: req.ip };
}
