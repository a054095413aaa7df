/**
 * Versioned SQL migrations: `src/store/migrations/NNNN_name.sql`, applied in order, each in its own
 * transaction, recorded in `schema_migrations` with a checksum so an edited, already-applied file is
 * reported instead of silently skipped. An advisory lock lets several processes start at once.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sql } from './db.ts';

const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await fs.readdir(dir)).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort();
  return Promise.all(
    files.map(async (file) => {
      const sql = await fs.readFile(path.join(dir, file), 'utf8');
      return {
        version: Number(file.slice(0, 4)),
        name: file.slice(5, -4),
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    }),
  );
}

/** Applies every pending migration; returns the ones applied. */
export async function migrate(sql: Sql, log: (message: string) => void = () => {}): Promise<Migration[]> {
  const migrations = await loadMigrations();
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext('trailproof.migrate'))`;
    await tx`create table if not exists schema_migrations (
      version int primary key, name text not null, checksum text not null, applied_at timestamptz not null default now())`;
    const applied = new Map(
      (await tx<{ version: number; checksum: string }[]>`select version, checksum from schema_migrations`).map((r) => [r.version, r.checksum]),
    );
    const done: Migration[] = [];
    for (const m of migrations) {
      const checksum = applied.get(m.version);
      if (checksum !== undefined) {
        if (checksum !== m.checksum) log(`warning: migration ${m.version}_${m.name} changed after it was applied`);
        continue;
      }
      await tx.unsafe(m.sql);
      await tx`insert into schema_migrations (version, name, checksum) values (${m.version}, ${m.name}, ${m.checksum})`;
      log(`applied migration ${m.version}_${m.name}`);
      done.push(m);
    }
    return done;
  });
}
