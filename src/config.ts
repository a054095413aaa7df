/**
 * Configuration from environment variables and CLI flags, validated once at start. Each mistake gets
 * its own message naming the variable, so an operator can fix it without reading code.
 */
import path from 'node:path';
import { TrailproofError } from './errors.ts';

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
}

export type ConfigOverrides = Partial<Pick<Config, 'dataDir' | 'port' | 'host' | 'databaseUrl'>>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: ConfigOverrides = {}): Config {
  const config: Config = {
    databaseUrl: overrides.databaseUrl ?? nonEmpty(env.DATABASE_URL),
    dataDir: path.resolve(overrides.dataDir ?? nonEmpty(env.TRAILPROOF_DATA_DIR) ?? '.trailproof'),
    port: overrides.port ?? integer(env, 'PORT', 3700, 0, 65535),
    host: overrides.host ?? nonEmpty(env.HOST) ?? '127.0.0.1',
    adminKey: nonEmpty(env.TRAILPROOF_ADMIN_KEY),
    logLevel: nonEmpty(env.LOG_LEVEL) ?? 'info',
    rateLimitPerSecond: integer(env, 'TRAILPROOF_RATE_LIMIT', 10_000, 1, 10_000_000),
    maxFutureSkewMs: integer(env, 'TRAILPROOF_MAX_FUTURE_SKEW_SECONDS', 300, 0, 86_400) * 1000,
    dbPoolSize: integer(env, 'TRAILPROOF_DB_POOL', 20, 1, 1000),
  };
  if (config.databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(config.databaseUrl)) {
    throw invalid('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  if (config.adminKey !== undefined && config.adminKey.length < 32) {
    throw invalid('TRAILPROOF_ADMIN_KEY must be at least 32 characters (generate one with `openssl rand -hex 32`)');
  }
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(config.logLevel)) {
    throw invalid(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "${config.logLevel}")`);
  }
  return config;
}

/** Parses a port given as a CLI flag, with the same rules as `PORT`. */
export function parsePort(value: string): number {
  return integer({ PORT: value }, 'PORT', 0, 0, 65535);
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

function invalid(message: string): TrailproofError {
  return new TrailproofError('CONFIG_INVALID', message);
}
