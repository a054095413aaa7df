/**
 * Serves the web console (`/`) and the embeddable viewer (`/embed.js`) from web/dist, built by Vite
 * (web/build.ts, run by `npm run build`; the package ships the result). A few dozen small files, so they are read once into memory, gzipped once, and
 * served with the right cache policy: hashed assets forever, the page and `embed.js` revalidated.
 * No dependency: @fastify/static would add a package for what is here forty lines.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TrailproofError } from '../errors.ts';

interface WebFile {
  body: Buffer;
  gzip: Buffer;
  type: string;
  immutable: boolean;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

/** The console page's policy: scripts and styles only from this origin, no framing by others. */
const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

/** The package's web/dist: two levels up from this module, in src/http as in dist/http. */
export const WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

/** True when web/dist holds a build. */
export function webBuilt(dist = WEB_DIST): boolean {
  return fs.existsSync(path.join(dist, 'index.html')) && fs.existsSync(path.join(dist, 'embed.js'));
}

export function webRoutes(dist = WEB_DIST) {
  let files: Map<string, WebFile> | undefined;
  const load = () => (files ??= readDist(dist));

  return async function registerWebRoutes(app: FastifyInstance): Promise<void> {
    const send = (name: string) => async (request: FastifyRequest, reply: FastifyReply) => {
      const file = load().get(name);
      if (!file) throw new TrailproofError('NOT_FOUND', `${name} is not built (run \`npm run build:web\`)`);
      reply.type(file.type).header('vary', 'accept-encoding');
      reply.header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
      if (name === 'index.html')
        reply.header('content-security-policy', CONSOLE_CSP).header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
      // The viewer script is loaded by other origins' pages: a classic script needs no CORS, but say so.
      if (name === 'embed.js') reply.header('access-control-allow-origin', '*');
      const gzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
      if (gzip) reply.header('content-encoding', 'gzip');
      return reply.send(gzip ? file.gzip : file.body);
    };
    const hide = { schema: { hide: true } };
    app.get('/', hide, send('index.html'));
    app.get('/index.html', hide, send('index.html'));
    app.get('/embed.js', hide, send('embed.js'));
    app.get('/assets/:name', hide, async (request, reply) => send(`assets/${(request.params as { name: string }).name}`)(request, reply));
  };
}

function readDist(dist: string): Map<string, WebFile> {
  const out = new Map<string, WebFile>();
  if (!fs.existsSync(dist)) return out;
  for (const entry of fs.readdirSync(dist, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    const name = path.relative(dist, full).split(path.sep).join('/');
    const body = fs.readFileSync(full);
    out.set(name, {
      body,
      gzip: gzipSync(body, { level: 9 }),
      type: TYPES[path.extname(name)] ?? 'application/octet-stream',
      immutable: name.startsWith('assets/'),
    });
  }
  return out;
}
