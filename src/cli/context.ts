/** Shared plumbing for CLI commands: configuration from env + global flags, a database session. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig, parsePort, type Config, type ConfigOverrides } from '../config.ts';
import { TrailproofError } from '../errors.ts';
import { openDatabase, type Database } from '../store/database.ts';
import type { Sql } from '../store/db.ts';
import type { LedgerKeys } from '../tlog/keys.ts';

export function configFrom(command: Command): Config {
  const opts = command.optsWithGlobals<{ dataDir?: string; port?: string; host?: string; databaseUrl?: string }>();
  const overrides: ConfigOverrides = {};
  if (opts.dataDir) overrides.dataDir = opts.dataDir;
  if (opts.port) overrides.port = parsePort(opts.port);
  if (opts.host) overrides.host = opts.host;
  if (opts.databaseUrl) overrides.databaseUrl = opts.databaseUrl;
  return loadConfig(process.env, overrides);
}

/**
 * Runs `fn` with a database connection: DATABASE_URL, or the embedded server of the data dir, shared
 * with a server running on it (which it never stops), or started for the command and stopped after,
 * also when the command is interrupted (SIGINT, SIGTERM).
 */
export async function withDatabase<T>(command: Command, fn: (sql: Sql, config: Config) => Promise<T>, config = configFrom(command)): Promise<T> {
  const db = await openCliDatabase(command, { ...config, dbPoolSize: Math.min(config.dbPoolSize, 8) });
  // Work in flight is rolled back with its transaction; the exit code is 128 + the signal's number, as shells do.
  let interruptedBy: NodeJS.Signals | undefined;
  const exitCode = (signal: NodeJS.Signals) => (signal === 'SIGINT' ? 130 : 143);
  const interrupted = (signal: NodeJS.Signals) => {
    interruptedBy = signal;
    process.stderr.write(`\ninterrupted (${signal})\n`);
    // The work is abandoned: what fails because its connections close is no error of its own.
    process.on('unhandledRejection', () => {});
    void db.sql
      .end({ timeout: 0 })
      .then(() => db.close())
      .finally(() => process.exit(exitCode(signal)));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    return await fn(db.sql, config);
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    // An interrupted command exits from its handler, once the database is left.
    if (interruptedBy) await new Promise(() => {});
    await db.close();
  }
}

/**
 * The service's ledger keys, for a command that signs or checks with them: refused when none is
 * configured or stored, so that such a command never creates a key of its own.
 */
export async function existingLedgerKeys(config: Config): Promise<LedgerKeys> {
  const { DEFAULT_KEY_FILE, loadLedgerKeys } = await import('../tlog/keys.ts');
  const { ledger } = config;
  if (!ledger.signerKey && !ledger.signerKeyFile && !fs.existsSync(path.join(config.dataDir, DEFAULT_KEY_FILE))) {
    throw new TrailproofError('CONFIG_INVALID', 'no ledger key found: set TRAILPROOF_LEDGER_KEY or TRAILPROOF_LEDGER_KEY_FILE as for `serve`');
  }
  return loadLedgerKeys(config);
}

/** The actor of changes made on the command line, in the records they leave. */
export function cliActor(): { type: 'system'; id: string; name: string } {
  return { type: 'system', id: `cli:${os.userInfo().username}`.slice(0, 256), name: 'trailproof CLI' };
}

/** The database of a CLI command (see withDatabase), its messages on stderr. */
export function openCliDatabase(command: Command, config: Config): Promise<Database> {
  return openDatabase(config, { log: (m) => process.stderr.write(`${m}\n`), name: 'trailproof-cli', user: { role: 'cli', command: commandPath(command) } });
}

/** `keys create` for `trailproof keys create`. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

export function printTable(rows: Record<string, unknown>[], columns: string[]): void {
  const cells = rows.map((r) => columns.map((c) => (r[c] === null || r[c] === undefined ? '-' : String(r[c]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${line(columns.map((c) => c.toUpperCase()))}\n${cells.map(line).join('\n')}${cells.length ? '\n' : ''}`);
}
