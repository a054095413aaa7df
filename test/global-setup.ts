/**
 * One PostgreSQL for the whole run: `TEST_DATABASE_URL` if set, else the embedded server (the one
 * the service itself uses) under `.trailproof-test/`, shared like a CLI command shares a data dir:
 * test runs at once on one checkout use one server, and the last one out stops it. A template database with every migration is
 * built once; each test file clones it (CREATE DATABASE … TEMPLATE), so files run isolated and in
 * parallel.
 */
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { connect } from '../src/store/db.ts';
import { openEmbeddedPostgres, type EmbeddedPostgres } from '../src/store/embedded-postgres.ts';
import { migrate } from '../src/store/migrate.ts';

let embedded: EmbeddedPostgres | undefined;
const DATA_DIR = path.resolve('.trailproof-test');

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
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
