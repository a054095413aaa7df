/**
 * Whether an error means the database is gone or cannot serve right now (killed, restarting,
 * unreachable, out of connections or disk), told apart by code, never by message text: the
 * network errno of the socket, postgres.js's connection codes, and the SQLSTATE classes of
 * PostgreSQL's "Appendix A. Error Codes" that say so. The HTTP layer answers these 503 UNAVAILABLE
 * with Retry-After (src/http/error-handler.ts), whatever the route.
 */
import net from 'node:net';
import postgres from 'postgres';

/** postgres.js's own codes for a connection that failed, closed or timed out. */
const CLIENT_CODES = new Set(['CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'CONNECTION_ENDED', 'CONNECT_TIMEOUT']);

/** Socket errnos of a database that is down or unreachable. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ENOENT']);
/** The syscalls of a socket's own errors (a file's ENOENT names `open`, an aborted request body none). */
const SOCKET_SYSCALLS = new Set(['connect', 'read', 'write', 'getaddrinfo']);

/**
 * SQLSTATEs: class 08 (connection exception), 53 (insufficient resources: disk full, out of memory,
 * too many connections), 57P01–57P05 (admin or crash shutdown, cannot connect now, database
 * dropped, idle session timeout), 58 (system error: I/O).
 */
function unavailableSqlState(code: string): boolean {
  return code.startsWith('08') || code.startsWith('53') || code.startsWith('58') || /^57P0[1-5]$/.test(code);
}

export function isDatabaseLoss(err: unknown): boolean {
  if (err instanceof postgres.PostgresError) return unavailableSqlState(err.code);
  const e = err as { code?: unknown; syscall?: unknown } | null;
  if (typeof e?.code !== 'string') return false;
  if (CLIENT_CODES.has(e.code)) return true;
  return NETWORK_CODES.has(e.code) && typeof e.syscall === 'string' && SOCKET_SYSCALLS.has(e.syscall);
}

/** Seconds a client waits before retrying a request the database could not serve. */
export const DATABASE_RETRY_AFTER_S = 2;

/** How long a query runs before the database's postmaster is checked, and how often after that. */
export const LIVENESS_CHECK_MS = 1000;

/**
 * Whether a new connection to the database's server is accepted, tried at the socket level (no
 * startup message, so PostgreSQL logs nothing). Resolves with the connection's error when it is
 * refused, null otherwise. A SIGKILLed postmaster leaves its backends running: a pooled connection
 * then keeps its socket and a query on it can wait indefinitely, while a new connection is refused.
 */
export function connectionRefused(sql: postgres.Sql): Promise<Error | null> {
  const { host, port, path } = sql.options as { host: string[]; port: number[]; path?: string | false };
  return new Promise((resolve) => {
    const socket = path ? net.connect({ path }) : net.connect({ host: host[0] ?? 'localhost', port: port[0] ?? 5432 });
    socket.setTimeout(LIVENESS_CHECK_MS);
    socket.once('connect', () => {
      socket.destroy();
      resolve(null);
    });
    // A server that does not answer in time is slow, not gone: the query keeps its chance.
    socket.once('timeout', () => {
      socket.destroy();
      resolve(null);
    });
    socket.once('error', (err) => resolve(isDatabaseLoss(err) ? err : null));
  });
}

/**
 * Settles as `work` does, unless the database's server refuses new connections while `work` is
 * still running (checked after LIVENESS_CHECK_MS, then every LIVENESS_CHECK_MS): then it rejects
 * with that refusal, so the caller answers at once instead of waiting on an orphaned backend.
 */
export function unlessDatabaseLost<T>(sql: postgres.Sql, work: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setInterval(async () => {
      const refused = await connectionRefused(sql);
      if (refused && !settled) finish(() => reject(refused));
    }, LIVENESS_CHECK_MS);
    timer.unref();
    const finish = (settle: () => void) => {
      settled = true;
      clearInterval(timer);
      settle();
    };
    work.then(
      (value) => finish(() => resolve(value)),
      (err) => finish(() => reject(err)),
    );
  });
}
