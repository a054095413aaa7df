/**
 * Configuration from environment variables and CLI flags, validated once at start. Each mistake gets
 * its own message naming the variable, so an operator can fix it without reading code.
 */
import path from 'node:path';
import { TrailproofError } from './errors.ts';
import { isLedgerError } from './ledger/errors.ts';
import { loadOcsfMapping, type OcsfMapping } from './export/ocsf-mapping.ts';
import { DEFAULT_BODY_IDLE_TIMEOUT_MS } from './http/request-limits.ts';
import { isValidKeyName } from './ledger/key-text.ts';
import { parseSignerKey, parseVerifierKey } from './ledger/note.ts';
import { parseWitnessList, type WitnessEndpoint } from './witness/endpoints.ts';
import { DEFAULT_SESSION_IDLE_SECONDS, DEFAULT_SESSION_MAX_SECONDS } from './people/sessions.ts';
import { ROLES, type Role } from './people/roles.ts';

export interface Config {
  /** `DATABASE_URL`; when absent the service runs its own embedded PostgreSQL under `dataDir`. */
  databaseUrl: string | undefined;
  /** `TRAILPROOF_DATA_DIR` / `--data-dir`; default `./.trailproof`. */
  dataDir: string;
  /** `PORT` / `--port`; default 3700. */
  port: number;
  /** `HOST` / `--host`; default `127.0.0.1` (set `0.0.0.0` to listen on every interface). */
  host: string;
  /** `TRAILPROOF_ADMIN_KEY`: a first admin key to install instead of generating one. */
  adminKey: string | undefined;
  /** `LOG_LEVEL`; default `info`. */
  logLevel: string;
  /** `TRAILPROOF_RATE_LIMIT`: requests per second per API key (burst: twice that); default 10000. */
  rateLimitPerSecond: number;
  /** `TRAILPROOF_MAX_FUTURE_SKEW_SECONDS`: how far in the future `occurred_at` may be; default 300. */
  maxFutureSkewMs: number;
  /** `TRAILPROOF_DB_POOL`: connections per process; default 20. */
  dbPoolSize: number;
  /** `TRAILPROOF_BODY_IDLE_SECONDS`: a request body that sends no byte this long is closed (408); default 10. */
  bodyIdleTimeoutMs: number;
  /** The ledger's signing key and checkpoint cadence (docs/ledger.md, "Running the ledger"). */
  ledger: LedgerConfig;
  /** `TRAILPROOF_WITNESSES`: `<url>=<witness verifier key>` entries; each new checkpoint is pushed to each (docs/witness.md). */
  witnesses: WitnessEndpoint[];
  /** `TRAILPROOF_OCSF_MAPPING` / `TRAILPROOF_OCSF_MAPPING_FILE`: OCSF class overrides by action (docs/exports.md); default none. */
  ocsfMapping: OcsfMapping;
  /** `TRAILPROOF_VIEWER_SECRET`: HMAC key of viewer tokens; default `<dataDir>/viewer.secret`, created if missing. */
  viewerSecret: Secret | undefined;
  /**
   * `TRAILPROOF_SELF_AUDIT_INTERVAL_SECONDS` (default 600; 0 = off) and `TRAILPROOF_SELF_AUDIT_DELAY_SECONDS`
   * (first run after start, default 60): the background ledger self-audit (docs/bundle.md).
   */
  selfAudit: { intervalMs: number; initialDelayMs: number };
  /** `TRAILPROOF_SECRET_KEY`: encrypts destination secrets at rest; default `<dataDir>/secret.key`, created if missing. */
  secretKey: Secret | undefined;
  /** Delivery of streams (docs/streams.md, "Retries and pausing"). */
  streams: StreamsConfig;
  /**
   * `TRAILPROOF_READ_AUDIT_COMMIT`: `flush` (default) commits the record of a read (`audit_log.viewed`,
   * `audit_log.exported`) like every other event, waiting for the WAL flush; `async` answers the
   * read without that wait (the WAL flush time, per read): a crash of the database server itself can
   * then lose the last fraction of a second of read records (docs/api.md, "Reads are audited").
   */
  readAuditCommit: 'flush' | 'async';
  /**
   * The data lifecycle (docs/lifecycle.md): `TRAILPROOF_DEFAULT_RETENTION_DAYS` (default 365),
   * `TRAILPROOF_LIFECYCLE_INTERVAL_SECONDS` (between scheduled runs, default 3600; 0 = only on demand) and
   * `TRAILPROOF_LIFECYCLE_DELAY_SECONDS` (first run after start, default 300).
   */
  lifecycle: { defaultRetentionDays: number; intervalMs: number; initialDelayMs: number };
  /** Where Prometheus metrics are served besides `GET /metrics` with an admin key (docs/metrics.md). */
  metrics: MetricsConfig;
  /**
   * `TRAILPROOF_CAPTURE_DATABASE_URL`: applications' databases (space or comma separated) whose
   * captured changes this service relays into the trails (docs/capture.md); none by default.
   */
  captureDatabaseUrls: Secret[];
  /** `TRAILPROOF_ARCHIVE_URL`: the cold archive, `s3://bucket/prefix` or `file:///dir`; default `<dataDir>/archive` (docs/lifecycle.md). */
  archiveUrl: string | undefined;
  /** Alert delivery (docs/alerts.md). */
  alerts: AlertsConfig;
  /**
   * Console sessions (docs/security.md#sessions): `TRAILPROOF_SESSION_IDLE_SECONDS` (default 1800)
   * ends a session after that long without a request; `TRAILPROOF_SESSION_MAX_SECONDS` (default
   * 43200) ends it that long after sign-in, however active.
   */
  sessions: { idleSeconds: number; maxSeconds: number };
  /**
   * `TRAILPROOF_PUBLIC_URL`: the address people reach the console at (sign-in links, the OIDC
   * redirect); default `http://<host>:<port>` (127.0.0.1 when listening on every interface).
   */
  publicUrl: string;
  /** OIDC sign-in to the console (docs/sso.md); undefined without `TRAILPROOF_OIDC_ISSUER`. */
  oidc: OidcConfig | undefined;
}

export interface OidcConfig {
  /** `TRAILPROOF_OIDC_ISSUER`: the provider's issuer URL (https, or http on a loopback host). */
  issuer: string;
  /** `TRAILPROOF_OIDC_CLIENT_ID`. */
  clientId: string;
  /** `TRAILPROOF_OIDC_CLIENT_SECRET`: absent for a public client (PKCE alone). */
  clientSecret: Secret | undefined;
  /** `TRAILPROOF_OIDC_REDIRECT_URL`: default `<TRAILPROOF_PUBLIC_URL>/v1/auth/oidc/callback`. */
  redirectUrl: string;
  /** `TRAILPROOF_OIDC_SCOPES`: default `openid email profile`. */
  scopes: string;
  /** `TRAILPROOF_OIDC_ROLE_CLAIM`: the claim whose values map to roles; default `groups`. */
  roleClaim: string;
  /** `TRAILPROOF_OIDC_ROLES`: `<claim value>=<role>[@<tenant>]`, space or comma separated; `*` matches everyone signed in. */
  roleMap: { value: string; role: Role; tenant: string | null }[];
}

export interface AlertsConfig {
  /** `TRAILPROOF_SMTP_URL`: the SMTP server of email channels (`smtps://user:pass@host:465`); default none (no email channels). */
  smtpUrl: Secret | undefined;
  /** `TRAILPROOF_ALERT_EMAIL_FROM`: the From address of alert email; default `trailproof@localhost`. */
  emailFrom: string;
  /** `TRAILPROOF_ALERT_POLL_MS`: how often firings are looked for and absences judged; default 1000. */
  pollMs: number;
}

export interface MetricsConfig {
  /** `TRAILPROOF_METRICS_PORT`: a second listener serving only `GET /metrics`, with no key; default none. */
  port: number | undefined;
  /** `TRAILPROOF_METRICS_HOST`: the address it listens on; default `HOST`'s. */
  host: string;
  /** `TRAILPROOF_METRICS_SERIES_LIMIT`: most tenants or streams one metric reports; default 1000. */
  seriesLimit: number;
}

export interface StreamsConfig {
  /** `TRAILPROOF_STREAM_MAX_FAILURES`: consecutive failed deliveries before a destination is paused; default 10. */
  maxFailures: number;
  /** `TRAILPROOF_STREAM_TIMEOUT_SECONDS`: one delivery's time limit; default 10. */
  timeoutMs: number;
  /** `TRAILPROOF_STREAM_RETRY_MAX_SECONDS`: upper bound of the backoff between retries; default 300. */
  retryMaxMs: number;
  /** `TRAILPROOF_STREAM_LEASE_SECONDS`: how long a process owns a destination without renewing; default 30. */
  leaseMs: number;
  /** `TRAILPROOF_ALERT_WEBHOOK`: URL that gets a JSON POST when a destination is paused; default none. */
  alertWebhook: string | undefined;
}

export interface LedgerConfig {
  /** `TRAILPROOF_LEDGER_KEY`: the signer key text (`PRIVATE+KEY+…`), kept out of logs. */
  signerKey: Secret | undefined;
  /** `TRAILPROOF_LEDGER_KEY_FILE`: a file holding the signer key text; default `<dataDir>/ledger.key`, created if missing. */
  signerKeyFile: string | undefined;
  /** `TRAILPROOF_LEDGER_HOST`: origins are `<host>/t/<tenant>`; default the signer key's name. */
  host: string | undefined;
  /** `TRAILPROOF_LEDGER_VERIFIER_KEYS`: earlier verifier keys (after a rotation), still published. */
  verifierKeys: string[];
  /** `TRAILPROOF_CHECKPOINT_REISSUE_SECONDS`: re-sign an unchanged tree after this long; 0 = never; default 300. */
  checkpointReissueMs: number;
}

/** A secret configuration value: printing, logging or serializing it shows `[secret]`. */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toJSON(): string {
    return '[secret]';
  }
  toString(): string {
    return '[secret]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[secret]';
  }
}

export type ConfigOverrides = Partial<Pick<Config, 'dataDir' | 'port' | 'host' | 'databaseUrl'>>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: ConfigOverrides = {}): Config {
  const host = overrides.host ?? nonEmpty(env.HOST) ?? '127.0.0.1';
  const config: Config = {
    databaseUrl: overrides.databaseUrl ?? nonEmpty(env.DATABASE_URL),
    dataDir: path.resolve(overrides.dataDir ?? nonEmpty(env.TRAILPROOF_DATA_DIR) ?? '.trailproof'),
    port: overrides.port ?? integer(env, 'PORT', 3700, 0, 65535),
    host,
    adminKey: nonEmpty(env.TRAILPROOF_ADMIN_KEY),
    logLevel: nonEmpty(env.LOG_LEVEL) ?? 'info',
    rateLimitPerSecond: integer(env, 'TRAILPROOF_RATE_LIMIT', 10_000, 1, 10_000_000),
    maxFutureSkewMs: integer(env, 'TRAILPROOF_MAX_FUTURE_SKEW_SECONDS', 300, 0, 86_400) * 1000,
    dbPoolSize: integer(env, 'TRAILPROOF_DB_POOL', 20, 1, 1000),
    bodyIdleTimeoutMs: integer(env, 'TRAILPROOF_BODY_IDLE_SECONDS', DEFAULT_BODY_IDLE_TIMEOUT_MS / 1000, 1, 3600) * 1000,
    ledger: loadLedgerConfig(env),
    witnesses: parseWitnessList(env.TRAILPROOF_WITNESSES),
    ocsfMapping: loadOcsfMapping(env),
    viewerSecret: nonEmpty(env.TRAILPROOF_VIEWER_SECRET) === undefined ? undefined : new Secret(nonEmpty(env.TRAILPROOF_VIEWER_SECRET)!),
    selfAudit: {
      intervalMs: integer(env, 'TRAILPROOF_SELF_AUDIT_INTERVAL_SECONDS', 600, 0, 31_536_000) * 1000,
      initialDelayMs: integer(env, 'TRAILPROOF_SELF_AUDIT_DELAY_SECONDS', 60, 0, 86_400) * 1000,
    },
    secretKey: nonEmpty(env.TRAILPROOF_SECRET_KEY) === undefined ? undefined : new Secret(nonEmpty(env.TRAILPROOF_SECRET_KEY)!),
    streams: loadStreamsConfig(env),
    readAuditCommit: readAuditCommit(env.TRAILPROOF_READ_AUDIT_COMMIT),
    lifecycle: {
      defaultRetentionDays: integer(env, 'TRAILPROOF_DEFAULT_RETENTION_DAYS', 365, 1, 3650),
      intervalMs: integer(env, 'TRAILPROOF_LIFECYCLE_INTERVAL_SECONDS', 3600, 0, 31_536_000) * 1000,
      initialDelayMs: integer(env, 'TRAILPROOF_LIFECYCLE_DELAY_SECONDS', 300, 0, 86_400) * 1000,
    },
    metrics: {
      port: nonEmpty(env.TRAILPROOF_METRICS_PORT) === undefined ? undefined : integer(env, 'TRAILPROOF_METRICS_PORT', 0, 0, 65535),
      host: nonEmpty(env.TRAILPROOF_METRICS_HOST) ?? host,
      seriesLimit: integer(env, 'TRAILPROOF_METRICS_SERIES_LIMIT', 1000, 1, 1_000_000),
    },
    alerts: {
      smtpUrl: nonEmpty(env.TRAILPROOF_SMTP_URL) === undefined ? undefined : new Secret(nonEmpty(env.TRAILPROOF_SMTP_URL)!),
      emailFrom: nonEmpty(env.TRAILPROOF_ALERT_EMAIL_FROM) ?? 'trailproof@localhost',
      pollMs: integer(env, 'TRAILPROOF_ALERT_POLL_MS', 1000, 10, 3_600_000),
    },
    captureDatabaseUrls: (nonEmpty(env.TRAILPROOF_CAPTURE_DATABASE_URL) ?? '')
      .split(/[\s,]+/)
      .filter((u) => u !== '')
      .map((u) => new Secret(u)),
    archiveUrl: nonEmpty(env.TRAILPROOF_ARCHIVE_URL),
    sessions: {
      idleSeconds: integer(env, 'TRAILPROOF_SESSION_IDLE_SECONDS', DEFAULT_SESSION_IDLE_SECONDS, 1, 31_536_000),
      maxSeconds: integer(env, 'TRAILPROOF_SESSION_MAX_SECONDS', DEFAULT_SESSION_MAX_SECONDS, 1, 31_536_000),
    },
    publicUrl: '',
    oidc: undefined,
  };
  config.publicUrl = publicUrl(env, config);
  config.oidc = loadOidcConfig(env, config.publicUrl);
  if (config.captureDatabaseUrls.some((u) => !/^postgres(ql)?:\/\//.test(u.reveal()))) {
    throw invalid('TRAILPROOF_CAPTURE_DATABASE_URL must be postgres:// or postgresql:// URLs, separated by spaces or commas');
  }
  if (config.databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(config.databaseUrl)) {
    throw invalid('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  if (config.adminKey !== undefined && config.adminKey.length < 32) {
    throw invalid('TRAILPROOF_ADMIN_KEY must be at least 32 characters (generate one with `openssl rand -hex 32`)');
  }
  if (config.viewerSecret !== undefined && config.viewerSecret.reveal().length < 32) {
    throw invalid('TRAILPROOF_VIEWER_SECRET must be at least 32 characters (generate one with `openssl rand -hex 32`)');
  }
  if (config.secretKey !== undefined && config.secretKey.reveal().length < 32) {
    throw invalid('TRAILPROOF_SECRET_KEY must be at least 32 characters (generate one with `openssl rand -hex 32`)');
  }
  if (config.metrics.port !== undefined && config.metrics.port !== 0 && config.metrics.port === config.port) {
    throw invalid(`TRAILPROOF_METRICS_PORT must differ from the service's port (${config.port})`);
  }
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(config.logLevel)) {
    throw invalid(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "${config.logLevel}")`);
  }
  return config;
}

function loadLedgerConfig(env: NodeJS.ProcessEnv): LedgerConfig {
  const signerKey = nonEmpty(env.TRAILPROOF_LEDGER_KEY);
  const signerKeyFile = nonEmpty(env.TRAILPROOF_LEDGER_KEY_FILE);
  if (signerKey !== undefined && signerKeyFile !== undefined) {
    throw invalid('set only one of TRAILPROOF_LEDGER_KEY and TRAILPROOF_LEDGER_KEY_FILE');
  }
  const host = nonEmpty(env.TRAILPROOF_LEDGER_HOST);
  // The origin `<host>/t/<tenant>` is also the signature's key name (c2sp.org/tlog-checkpoint).
  if (host !== undefined && !isValidKeyName(host)) {
    throw invalid(`TRAILPROOF_LEDGER_HOST must not contain spaces, "+" or control characters (got ${JSON.stringify(host)})`);
  }
  if (signerKey !== undefined) named('TRAILPROOF_LEDGER_KEY', () => parseSignerKey(signerKey));
  const verifierKeys = (nonEmpty(env.TRAILPROOF_LEDGER_VERIFIER_KEYS) ?? '').split(/[\s,]+/).filter((k) => k !== '');
  for (const key of verifierKeys) named('TRAILPROOF_LEDGER_VERIFIER_KEYS', () => parseVerifierKey(key));
  return {
    signerKey: signerKey === undefined ? undefined : new Secret(signerKey),
    signerKeyFile: signerKeyFile === undefined ? undefined : path.resolve(signerKeyFile),
    host,
    verifierKeys,
    checkpointReissueMs: integer(env, 'TRAILPROOF_CHECKPOINT_REISSUE_SECONDS', 300, 0, 31_536_000) * 1000,
  };
}

function loadStreamsConfig(env: NodeJS.ProcessEnv): StreamsConfig {
  const timeoutMs = integer(env, 'TRAILPROOF_STREAM_TIMEOUT_SECONDS', 10, 1, 3600) * 1000;
  const leaseMs = integer(env, 'TRAILPROOF_STREAM_LEASE_SECONDS', 30, 2, 86_400) * 1000;
  // A delivery that outlives the lease could overlap with another process's: keep it well inside.
  if (timeoutMs * 2 > leaseMs)
    throw invalid(`TRAILPROOF_STREAM_LEASE_SECONDS (${leaseMs / 1000}) must be at least twice TRAILPROOF_STREAM_TIMEOUT_SECONDS (${timeoutMs / 1000})`);
  const alertWebhook = nonEmpty(env.TRAILPROOF_ALERT_WEBHOOK);
  if (alertWebhook !== undefined && !/^https?:\/\/[^\s]+$/.test(alertWebhook)) throw invalid('TRAILPROOF_ALERT_WEBHOOK must be an http:// or https:// URL');
  return {
    maxFailures: integer(env, 'TRAILPROOF_STREAM_MAX_FAILURES', 10, 1, 1_000_000),
    timeoutMs,
    retryMaxMs: integer(env, 'TRAILPROOF_STREAM_RETRY_MAX_SECONDS', 300, 1, 86_400) * 1000,
    leaseMs,
    alertWebhook,
  };
}

/** Parses a port given as a CLI flag, with the same rules as `PORT`. */
export function parsePort(value: string): number {
  return integer({ PORT: value }, 'PORT', 0, 0, 65535);
}

function publicUrl(env: NodeJS.ProcessEnv, config: Config): string {
  const given = nonEmpty(env.TRAILPROOF_PUBLIC_URL);
  if (given === undefined) {
    const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
    return `http://${host}:${config.port}`;
  }
  if (!/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(given)) throw invalid(`TRAILPROOF_PUBLIC_URL must be an http:// or https:// URL (got "${given}")`);
  return given.replace(/\/+$/, '');
}

function loadOidcConfig(env: NodeJS.ProcessEnv, publicUrlText: string): OidcConfig | undefined {
  const issuer = nonEmpty(env.TRAILPROOF_OIDC_ISSUER);
  if (issuer === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw invalid(`TRAILPROOF_OIDC_ISSUER must be a URL (got "${issuer}")`);
  }
  // Plain HTTP only to a provider on this machine (a test or a local provider).
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))) {
    throw invalid(`TRAILPROOF_OIDC_ISSUER must be an https:// URL (http:// only on a loopback host; got "${issuer}")`);
  }
  const clientId = nonEmpty(env.TRAILPROOF_OIDC_CLIENT_ID);
  if (clientId === undefined) throw invalid('TRAILPROOF_OIDC_CLIENT_ID is required with TRAILPROOF_OIDC_ISSUER');
  const secret = nonEmpty(env.TRAILPROOF_OIDC_CLIENT_SECRET);
  const redirectUrl = nonEmpty(env.TRAILPROOF_OIDC_REDIRECT_URL) ?? `${publicUrlText}/v1/auth/oidc/callback`;
  if (!/^https?:\/\/[^\s]+$/.test(redirectUrl)) throw invalid(`TRAILPROOF_OIDC_REDIRECT_URL must be an http:// or https:// URL (got "${redirectUrl}")`);
  const roleMap = (nonEmpty(env.TRAILPROOF_OIDC_ROLES) ?? '')
    .split(/[\s,]+/)
    .filter((entry) => entry !== '')
    .map((entry) => {
      const match = /^([^=]+)=([a-z]+)(?:@([A-Za-z0-9][A-Za-z0-9_-]{0,62}))?$/.exec(entry);
      if (!match || !(ROLES as readonly string[]).includes(match[2]!)) {
        throw invalid(`TRAILPROOF_OIDC_ROLES: "${entry}" must be <claim value>=<role>[@<tenant>], the role one of ${ROLES.join(', ')}`);
      }
      return { value: match[1]!, role: match[2] as Role, tenant: match[3] ?? null };
    });
  return {
    issuer,
    clientId,
    clientSecret: secret === undefined ? undefined : new Secret(secret),
    redirectUrl,
    scopes: nonEmpty(env.TRAILPROOF_OIDC_SCOPES) ?? 'openid email profile',
    roleClaim: nonEmpty(env.TRAILPROOF_OIDC_ROLE_CLAIM) ?? 'groups',
    roleMap,
  };
}

function readAuditCommit(value: string | undefined): 'flush' | 'async' {
  const mode = nonEmpty(value) ?? 'flush';
  if (mode !== 'flush' && mode !== 'async') throw invalid(`TRAILPROOF_READ_AUDIT_COMMIT must be flush or async (got "${mode}")`);
  return mode;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw invalid(`${name} must be a whole number (got "${raw}")`);
  const value = Number(raw);
  if (value < min || value > max) throw invalid(`${name} must be between ${min} and ${max} (got ${value})`);
  return value;
}

/** Runs a key parser, naming the variable in its CONFIG_INVALID message (which never echoes a signer key). */
function named(variable: string, parse: () => unknown): void {
  try {
    parse();
  } catch (err) {
    throw isLedgerError(err) ? invalid(`${variable}: ${err.message}`) : err;
  }
}

function invalid(message: string): TrailproofError {
  return new TrailproofError('CONFIG_INVALID', message);
}
