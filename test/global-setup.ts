/**
 * First, dist/ is brought up to date with the sources (scripts/build-dist.mjs, incremental): the
 * tests that start the CLI or the server as a process run bin/trailproof.js, which runs dist/, what
 * users run; the others import the sources. web/dist is built if missing (`npm ci` builds it; the
 * end-to-end suite builds it afresh).
 *
 * Then one PostgreSQL for the whole run: `TEST_DATABASE_URL` if set, else the embedded server (the one
 * the service itself uses) under `.trailproof-test/`, shared like a CLI command shares a data dir:
 * test runs at once on one checkout use one server, and the last one out stops it. A template database with every migration is
 * built once; each test file clones it (CREATE DATABASE … TEMPLATE), so files run isolated and in
 * parallel.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildWeb } from '../web/build.ts';
import { webBuilt } from '../src/http/web-routes.ts';
import { connect } from '../src/store/db.ts';
import { openEmbeddedPostgres, type EmbeddedPostgres } from '../src/store/embedded-postgres.ts';
import { migrate } from '../src/store/migrate.ts';

let embedded: EmbeddedPostgres | undefined;
const DATA_DIR = path.resolve('.trailproof-test');

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  buildDist();
  if (!webBuilt()) await buildWeb({ quiet: true });
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    embedded = await openEmbeddedPostgres({ dataDir: DATA_DIR, user: { role: 'cli', command: 'test run' } });
    adminUrl = embedded.url;
  }
  // Unique per run, so two test runs on one machine never drop each other's template.
  const TEMPLATE_DB = `tp_template_${process.pid}`;
  const admin = connect(adminUrl, { max: 1 });
  await admin.unsafe(`create database ${TEMPLATE_DB}`);
  const templateUrl = withDatabase(adminUrl, TEMPLATE_DB);
  const template = connect(templateUrl, { max: 1 });
  await migrate(template);
  await template.end();
  await admin.end();
  project.provide('adminDatabaseUrl', adminUrl);
  project.provide('templateDatabase', TEMPLATE_DB);
  return async () => {
    const cleanup = connect(adminUrl, { max: 1 });
    await cleanup.unsafe(`drop database if exists ${TEMPLATE_DB} with (force)`).catch(() => {});
    await cleanup.end();
    await embedded?.release();
  };
}

/**
 * Compiles what changed into dist/. tsc emits even when it reports a type error, so the processes
 * still run the current sources; the errors are shown here and fail `npm run typecheck`.
 */
function buildDist(): void {
  const { status, error } = spawnSync(process.execPath, [path.resolve(import.meta.dirname, '../scripts/build-dist.mjs')], { stdio: 'inherit' });
  if (error) throw error;
  if (status !== 0) process.stderr.write('global setup: dist/ built with type errors (above)\n');
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

declare module 'vitest' {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
    templateDatabase: string;
  }
}
