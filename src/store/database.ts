/**
 * Opens the database the configuration names: `DATABASE_URL`, or the embedded cluster under the data
 * directory (owned by one process at a time, shared by the others: src/store/data-dir-owner.ts).
 * Migrations are applied on open. A connection that cannot be made is DATABASE_CONNECT_FAILED, one
 * line saying why (src/store/connection-failure.ts).
 */
import type { Config } from '../config.ts';
import { connectionFailure } from './connection-failure.ts';
import type { DataDirUser } from './data-dir-owner.ts';
import { APP_ROLE, canUseAppRole, connect, type Sql } from './db.ts';
import { openEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.ts';
import { migrate, type Migration } from './migrate.ts';

export interface Database {
  sql: Sql;
  url: string;
  embedded: EmbeddedPostgres | undefined;
  /** The migrations this open applied (as the connecting user, the schema owner). */
  applied: Migration[];
  /** Closes the pool, then leaves the embedded server's data dir (its owner stops the server when nobody else uses it). */
  close(): Promise<void>;
}

export interface OpenOptions {
  log?: (message: string) => void;
  migrate?: boolean;
  /** application_name of the connections. */
  name?: string;
  /** Who uses the embedded server's data dir: a `serve` owns it alone; default a CLI command named by `name`. */
  user?: Omit<DataDirUser, 'pid'>;
}

export async function openDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir' | 'dbPoolSize'>, options: OpenOptions = {}): Promise<Database> {
  const log = options.log ?? (() => {});
  const name = options.name ?? 'trailproof';
  const embedded = config.databaseUrl
    ? undefined
    : await openEmbeddedPostgres({ dataDir: config.dataDir, user: options.user ?? { role: 'cli', command: name }, log });
  const url = config.databaseUrl ?? embedded!.url;
  let role: string | undefined;
  let applied: Migration[] = [];
  try {
    // Migrate as the connecting user (the schema owner), then work as the append-only service role.
    const owner = connect(url, { max: 1, name: `${name}-migrate` });
    try {
      if (options.migrate !== false) applied = await migrate(owner, log);
      role = (await canUseAppRole(owner)) ? APP_ROLE : undefined;
    } finally {
      await owner.end({ timeout: 5 });
    }
  } catch (err) {
    await embedded?.release();
    throw connectionFailure(err, url, config.databaseUrl === undefined ? undefined : 'DATABASE_URL') ?? err;
  }
  if (!role) log(`warning: role ${APP_ROLE} is not available; the service runs as the connecting user (append-only triggers still apply)`);
  const sql = connect(url, { max: config.dbPoolSize, ...(options.name ? { name: options.name } : {}), ...(role ? { role } : {}) });
  return {
    sql,
    url,
    embedded,
    applied,
    close: async () => {
      await sql.end({ timeout: 10 });
      await embedded?.release();
    },
  };
}
