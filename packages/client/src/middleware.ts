/**
 * Middleware that opens an audit context (context.ts) per request, so code under it records
 * events with only `{ action, targets }`: the actor comes from a function the app supplies, the
 * client IP from the connection (or X-Forwarded-For through trusted proxies), user agent, request
 * id and session id from the request. One builder, three thin adapters: Express (and Connect),
 * Fastify, and fetch-style handlers (Hono, Next.js route handlers, anything taking a `Request`).
 */
import { isIP } from 'node:net';
import { type AuditContext, runWithContext } from './context.ts';
import type { EventActor } from './types.ts';

/** What the context builder reads from a request, whatever the framework. */
export interface RequestView<R> {
  /** The framework's request object, passed to the app's functions. */
  request: R;
  header(name: string): string | undefined;
  /** Address of the connection's peer; undefined where the runtime does not give it. */
  remoteAddress: string | undefined;
}

export interface AuditMiddlewareOptions<R> {
  /** The actor of the request (the signed-in user, the calling service), or undefined for none. Default: none. */
  actor?: (request: R) => EventActor | undefined | Promise<EventActor | undefined>;
  /** The tenant of the request, for a client key not bound to one. Default: none. */
  tenant?: (request: R) => string | undefined | Promise<string | undefined>;
  /** The session id. Default: none. */
  sessionId?: (request: R) => string | undefined;
  /**
   * Which peers may set X-Forwarded-For: `false` (default) trusts none and takes the connection's
   * address; a number trusts that many proxy hops in front of the app; a list trusts those addresses.
   */
  trustProxy?: boolean | number | readonly string[];
  /** Header carrying the request id. Default `x-request-id`. */
  requestIdHeader?: string;
}

/** Builds the audit context of one request. */
export async function requestContext<R>(view: RequestView<R>, options: AuditMiddlewareOptions<R>): Promise<AuditContext> {
  const actor = await options.actor?.(view.request);
  const tenant = await options.tenant?.(view.request);
  const sessionId = options.sessionId?.(view.request);
  const ip = clientIp(view.remoteAddress, view.header('x-forwarded-for'), options.trustProxy ?? false);
  const userAgent = view.header('user-agent');
  const requestId = view.header(options.requestIdHeader ?? 'x-request-id');
  return {
    ...(actor !== undefined && { actor }),
    ...(tenant !== undefined && { tenant }),
    ...(ip !== undefined && { ip }),
    ...(userAgent !== undefined && { userAgent }),
    ...(requestId !== undefined && { requestId }),
    ...(sessionId !== undefined && { sessionId }),
  };
}

/**
 * The client's address: the peer, or walking X-Forwarded-For from the right past the trusted
 * proxies (the leftmost entries are whatever the client claimed, so they count only through
 * trusted hops). Strips an IPv4-mapped IPv6 prefix and a zone, and gives undefined for non-addresses.
 */
export function clientIp(remote: string | undefined, forwardedFor: string | undefined, trust: boolean | number | readonly string[]): string | undefined {
  const chain = [
    ...(forwardedFor ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    ...(remote ? [remote] : []),
  ].map(normalizeIp);
  let i = chain.length - 1;
  if (trust === true) i = 0;
  else if (typeof trust === 'number') i = Math.max(0, chain.length - 1 - trust);
  else if (Array.isArray(trust)) while (i > 0 && trust.includes(chain[i]!)) i--;
  else if (remote !== undefined) return ipOrUndefined(normalizeIp(remote));
  return ipOrUndefined(chain[i]);
}

function normalizeIp(address: string): string {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  return bare.toLowerCase().startsWith('::ffff:') && isIP(bare.slice(7)) === 4 ? bare.slice(7) : bare;
}

function ipOrUndefined(address: string | undefined): string | undefined {
  return address !== undefined && isIP(address) !== 0 ? address : undefined;
}

interface NodeRequest {
  headers: Record<string, string | string[] | undefined>;
  socket: { remoteAddress?: string | undefined };
}

function nodeView<R extends NodeRequest>(request: R): RequestView<R> {
  return {
    request,
    header: (name) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    remoteAddress: request.socket.remoteAddress,
  };
}

/** Express or Connect middleware: `app.use(expressAudit({ actor: (req) => … }))`. */
export function expressAudit<R extends NodeRequest>(options: AuditMiddlewareOptions<R> = {}) {
  return (request: R, _response: unknown, next: (err?: unknown) => void): void => {
    requestContext(nodeView(request), options).then(
      (context) => runWithContext(context, () => next()),
      (err: unknown) => next(err),
    );
  };
}

/** Fastify `onRequest` hook: `app.addHook('onRequest', fastifyAudit({ actor: (req) => … }))`. */
export function fastifyAudit<R extends { raw: NodeRequest; headers: NodeRequest['headers'] }>(options: AuditMiddlewareOptions<R> = {}) {
  return (request: R, _reply: unknown, done: (err?: Error) => void): void => {
    const view: RequestView<R> = { ...nodeView(request.raw), request };
    requestContext(view, options).then(
      (context) => runWithContext(context, () => done()),
      (err: unknown) => done(err as Error),
    );
  };
}

/**
 * Wraps a fetch-style handler (Next.js route handler, Deno/Bun server, a Worker):
 * `export const POST = withAudit(handler, { actor })`. Fetch runtimes give no peer address;
 * `remoteAddress` reads it where the platform has it (e.g. Bun's `server.requestIP`).
 */
export function withAudit<A extends unknown[], T>(
  handler: (request: Request, ...rest: A) => T | Promise<T>,
  options: AuditMiddlewareOptions<Request> & { remoteAddress?: (request: Request, ...rest: A) => string | undefined } = {},
) {
  return async (request: Request, ...rest: A): Promise<T> => {
    const view: RequestView<Request> = {
      request,
      header: (name) => request.headers.get(name) ?? undefined,
      remoteAddress: options.remoteAddress?.(request, ...rest),
    };
    const context = await requestContext(view, options);
    return runWithContext(context, () => handler(request, ...rest));
  };
}

/** Hono middleware: `app.use(honoAudit({ actor: (req) => … }))`; `req` is the standard `Request`. */
export function honoAudit(options: AuditMiddlewareOptions<Request> & { remoteAddress?: (request: Request) => string | undefined } = {}) {
  return async (c: { req: { raw: Request } }, next: () => Promise<void>): Promise<void> => {
    await withAudit((_request: Request) => next(), options)(c.req.raw);
  };
}
