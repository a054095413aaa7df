/**
 * Opens the database the configuration names: `DATABASE_URL`, or the embedded cluster under the data
 * directory (started, or adopted if a previous run left it running). Migrations are applied on open.
 */
import type { Config } from '../config.ts';
import { APP_ROLE, canUseAppRole, connect, type Sql } from './db.ts';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.ts';
import { migrate, type Migration } from './migrate.ts';

export interface Database {
  sql: Sql;
  url: string;
  embedded: EmbeddedPostgres | undefined;
  /** The migrations this open applied (as the connecting user, the schema owner). */
  applied: Migration[];
  /**
   * Closes the pool, then stops the embedded server when `stopServer` (default: only if this call
   * started it, so a CLI command never stops the server a running `serve` uses).
   */
  close(options?: { stopServer?: boolean }): Promise<void>;
}

export async function openDatabase(
  config: Pick<Config, 'databaseUrl' | 'dataDir' | 'dbPoolSize'>,
  options: { log?: (message: string) => void; migrate?: boolean; name?: string } = {},
): Promise<Database> {
  const log = options.log ?? (() => {});
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres({ dataDir: config.dataDir, log });
  const url = config.databaseUrl ?? embedded!.url;
  // Migrate as the connecting user (the schema owner), then work as the append-only service role.
  const owner = connect(url, { max: 1, name: `${options.name ?? 'trailproof'}-migrate` });
  let role: string | undefined;
  let applied: Migration[] = [];
  try {
    if (options.migrate !== false) applied = await migrate(owner, log);
    role = (await canUseAppRole(owner)) ? APP_ROLE : undefined;
  } finally {
    await owner.end({ timeout: 5 });
  }
  if (!role) log(`warning: role ${APP_ROLE} is not available; the service runs as the connecting user (append-only triggers still apply)`);
  const sql = connect(url, { max: config.dbPoolSize, ...(options.name ? { name: options.name } : {}), ...(role ? { role } : {}) });
  return {
    sql,
    url,
    embedded,
    applied,
    close: async ({ stopServer = embedded?.started ?? false } = {}) => {
      await sql.end({ timeout: 10 });
      if (embedded && stopServer) await embedded.stop();
    },
  };
}
