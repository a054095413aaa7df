/**
 * A database that cannot be opened, said in one line for people: what is wrong (the URL with its
 * password hidden) and what to do. Failures are told apart by their codes (errno, SQLSTATE,
 * postgres.js codes), never by message text; anything else is not a connection failure.
 */
import postgres from 'postgres';
import { TrailproofError } from '../errors.ts';

/** The URL with its password replaced by `***`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(a URL that does not parse)';
  }
}

/**
 * DATABASE_CONNECT_FAILED for an error of the first connection to `url`, or undefined when `err`
 * is not about connecting. `variable`: the setting that named the URL (`DATABASE_URL`), if any.
 */
export function connectionFailure(err: unknown, url: string, variable: string | undefined): TrailproofError | undefined {
  const reason = failureReason(err, url);
  if (!reason) return undefined;
  const where = `PostgreSQL at ${redactUrl(url)}${variable ? ` (${variable})` : ''}`;
  const fix = variable ? `fix ${variable}` : 'see the server log in the data dir';
  return new TrailproofError('DATABASE_CONNECT_FAILED', `cannot connect to ${where}: ${reason.what}; ${reason.todo ?? fix}`, { cause: err });
}

function failureReason(err: unknown, url: string): { what: string; todo?: string } | undefined {
  const user = (() => {
    try {
      return decodeURIComponent(new URL(url).username) || undefined;
    } catch {
      return undefined;
    }
  })();
  if (err instanceof postgres.PostgresError) {
    switch (err.code) {
      case '28P01':
        return { what: `the password of user "${user ?? '?'}" is wrong` };
      case '28000':
        return { what: `user "${user ?? '?'}" may not connect (no such role, or pg_hba.conf does not allow this connection)` };
      case '3D000':
        return { what: 'the database does not exist', todo: 'create it (createdb), or fix the database name in the URL' };
      case '57P03':
        return { what: 'the server is starting up or shutting down', todo: 'try again in a moment' };
      case '53300':
        return { what: 'the server has no connection slot left', todo: 'raise its max_connections, or lower TRAILPROOF_DB_POOL' };
      default:
        return undefined;
    }
  }
  switch ((err as { code?: unknown } | null)?.code) {
    case 'ECONNREFUSED':
      return { what: 'nothing accepts connections there', todo: 'start PostgreSQL, or point the URL at the right host and port' };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { what: 'the host name does not resolve', todo: 'fix the host in the URL' };
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'CONNECT_TIMEOUT':
      return { what: 'the host does not answer', todo: 'check the host, port and firewall' };
    case 'ECONNRESET':
      return { what: 'the connection was closed before PostgreSQL answered', todo: 'check that a PostgreSQL server listens there (TLS settings included)' };
    case 'SASL_SIGNATURE_MISMATCH':
      return { what: 'the server failed to prove it knows the password (SCRAM)', todo: 'check that the URL names the server you mean' };
    default:
      return undefined;
  }
}
