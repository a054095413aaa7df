/**
 * One HTTP(S) POST for the HTTP destinations (webhook, Splunk HEC, Datadog): keep-alive per
 * destination, an optional private CA, aborted by the worker's timeout signal, and any status but
 * 2xx (or a dropped connection) as STREAM_DELIVERY_FAILED naming the status. The receiver's answer
 * is read (bounded) so the connection can be reused, but never logged in full: it may echo data.
 */
import http from 'node:http';
import https from 'node:https';
import { deliveryFailed } from './destination.ts';

export interface HttpSender {
  post(url: string, headers: Record<string, string>, body: Buffer | string, signal: AbortSignal): Promise<void>;
  close(): void;
}

const MAX_ANSWER_BYTES = 4096;

export function httpSender(options: { ca?: string | undefined } = {}): HttpSender {
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: 4 }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: 4, ...(options.ca ? { ca: options.ca } : {}) }),
  };
  return {
    post(url, headers, body, signal) {
      const target = new URL(url);
      const client = target.protocol === 'https:' ? https : http;
      const agent = agents[target.protocol as 'http:' | 'https:'];
      return new Promise<void>((resolve, reject) => {
        if (signal.aborted) return reject(deliveryFailed(`POST ${target.host}: timed out`));
        const req = client.request(
          target,
          {
            method: 'POST',
            agent,
            headers: { 'content-length': String(Buffer.byteLength(body)), ...headers },
            signal,
          },
          (res) => {
            let answer = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              if (answer.length < MAX_ANSWER_BYTES) answer += chunk;
            });
            res.on('error', (err) => reject(deliveryFailed(`POST ${target.host}: ${err.message}`, err)));
            res.on('end', () => {
              const status = res.statusCode ?? 0;
              if (status >= 200 && status < 300) resolve();
              else reject(deliveryFailed(`POST ${target.host}${target.pathname}: HTTP ${status} ${oneLine(answer)}`.trimEnd()));
            });
          },
        );
        req.on('error', (err) => reject(deliveryFailed(signal.aborted ? `POST ${target.host}: timed out` : `POST ${target.host}: ${err.message}`, err)));
        req.end(body);
      });
    },
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').slice(0, 200);
}
