/**
 * `trailproof capture install|uninstall|status|relay|revert` (docs/capture.md). `--database-url`
 * names the application's database here; Trailproof's own database is DATABASE_URL or the data dir.
 */
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { loadConfig, type Config } from '../config.ts';
import { TrailproofError } from '../errors.ts';
import { captureStatus, installCapture, uninstallCapture } from '../capture/install.ts';
import { CaptureRelay, sourceName } from '../capture/relay.ts';
import { planDigest, type ReversalPlan } from '../capture/reversal-plan.ts';
import { applyPlan } from '../capture/revert.ts';
import { MetaAudit } from '../audit/meta-audit.ts';
import { GroupCommitter } from '../ingest/group-commit.ts';
import { connect, type Sql } from '../store/db.ts';
import { printTable, withDatabase } from './context.ts';

export function captureCommand(): Command {
  const cmd = new Command('capture').description("record every change to an application's own PostgreSQL tables (docs/capture.md)");
  cmd
    .command('install')
    .description('install the outbox and the triggers in the application database (run again to add tables)')
    .option('--database-url <url>', "the application's database (a role that owns the tables)")
    .requiredOption('--tenant-column <column>', "the column holding each row's tenant")
    .requiredOption('--table <table>', 'schema.table (or table in public) to capture; repeatable', collect, [])
    .option('--exclude-column <column>', 'table.column never to record; repeatable', collect, [])
    .option('--max-value-bytes <n>', 'longer values (as JSON) are recorded as their length and SHA-256', '2048')
    .action(async (opts: { tenantColumn: string; table: string[]; excludeColumn: string[]; maxValueBytes: string }, command: Command) => {
      const tables = await withApp(command, (app) =>
        installCapture(app, {
          tables: opts.table,
          tenantColumn: opts.tenantColumn,
          excludeColumns: opts.excludeColumn,
          maxValueBytes: Number(opts.maxValueBytes),
        }),
      );
      process.stdout.write(`capturing ${tables.map((t) => `${t.schema_name}.${t.table_name}`).join(', ')}\n`);
    });
  cmd
    .command('uninstall')
    .description('remove the triggers and the outbox (refused while changes wait for the relay)')
    .option('--database-url <url>', "the application's database")
    .option('--force', 'also drop changes that have not reached Trailproof')
    .action(async (opts: { force?: boolean }, command: Command) => {
      const { dropped } = await withApp(command, (app) => uninstallCapture(app, { force: opts.force === true }));
      process.stdout.write(`capture removed from ${dropped} tables\n`);
    });
  cmd
    .command('status')
    .description('captured tables, backlog and parked changes')
    .option('--database-url <url>', "the application's database")
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const status = await withApp(command, (app) => captureStatus(app));
      if (opts.json) return void process.stdout.write(`${JSON.stringify(status)}\n`);
      if (!status.installed) return void process.stdout.write('capture is not installed\n');
      printTable(status.tables as unknown as Record<string, unknown>[], ['schema_name', 'table_name', 'tenant_column', 'key_columns', 'excluded_columns']);
      process.stdout.write(`backlog: ${status.backlog} changes (oldest ${status.oldestAt ?? '-'}); parked: ${status.parked}\n`);
    });
  cmd
    .command('relay')
    .description("move captured changes into the tenants' trails until stopped (the service does this for TRAILPROOF_CAPTURE_DATABASE_URL)")
    .option('--database-url <url>', "the application's database")
    .option('--once', 'stop once the outbox is empty')
    .action(async (opts: { once?: boolean }, command: Command) => {
      const url = appUrl(command);
      await withDatabase(
        command,
        async (sql) => {
          const committer = new GroupCommitter(sql);
          const app = connect(url, { max: 1, name: 'trailproof-capture-relay' });
          const relay = new CaptureRelay({ app, append: (items) => committer.append(items), source: sourceName(url) });
          try {
            if (opts.once) process.stdout.write(`relayed ${await relay.drain()} changes\n`);
            else {
              relay.start();
              await new Promise(() => {});
            }
          } finally {
            await relay.stop();
            await committer.close();
            await app.end({ timeout: 5 });
          }
        },
        trailproofConfig(command),
      );
    });
  cmd
    .command('revert <plan>')
    .description('apply a reversal plan (the JSON of POST /v1/reversals) in one transaction of the application database')
    .option('--database-url <url>', "the application's database")
    .option('--skip-conflicts', 'leave the steps in conflict undone and apply the rest')
    .action(async (file: string, opts: { skipConflicts?: boolean }, command: Command) => {
      const plan = parsePlan(await readFile(file, 'utf8'));
      const result = await withApp(command, (app) => applyPlan(app, plan, { skipConflicts: opts.skipConflicts === true }));
      await withDatabase(
        command,
        async (sql) => {
          const committer = new GroupCommitter(sql);
          try {
            await new MetaAudit(committer).record({
              tenant: plan.tenant,
              principal: { actor: { type: 'system', id: 'trailproof-cli', name: 'trailproof capture revert' } },
              action: 'reversal.applied',
              targets: [{ type: 'reversal_plan', id: plan.id }],
              metadata: { actor: plan.actor, since: plan.since, until: plan.until, ...result, plan_sha256: planDigest(plan) },
            });
          } finally {
            await committer.close();
          }
        },
        trailproofConfig(command),
      );
      process.stdout.write(`applied ${result.applied} steps, skipped ${result.skipped} in conflict\n`);
    });
  return cmd;
}

/** Runs `fn` on the application's database. */
async function withApp<T>(command: Command, fn: (app: Sql) => Promise<T>): Promise<T> {
  const app = connect(appUrl(command), { max: 1, name: 'trailproof-capture' });
  try {
    return await fn(app);
  } finally {
    await app.end({ timeout: 5 });
  }
}

function appUrl(command: Command): string {
  const url = command.optsWithGlobals<{ databaseUrl?: string }>().databaseUrl ?? process.env.TRAILPROOF_CAPTURE_DATABASE_URL;
  if (!url || !/^postgres(ql)?:\/\//.test(url)) {
    throw new TrailproofError('CONFIG_INVALID', "--database-url must name the application's database (a postgres:// URL)");
  }
  return url;
}

/** Trailproof's own configuration: `--database-url` names the application's database in these commands. */
function trailproofConfig(command: Command): Config {
  const { dataDir } = command.optsWithGlobals<{ dataDir?: string }>();
  return loadConfig(process.env, dataDir ? { dataDir } : {});
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** A plan file: the JSON POST /v1/reversals answered. */
function parsePlan(text: string): ReversalPlan {
  let plan: Partial<ReversalPlan>;
  try {
    plan = JSON.parse(text) as Partial<ReversalPlan>;
  } catch {
    throw new TrailproofError('REQUEST_INVALID', 'the plan file is not JSON: save the answer of POST /v1/reversals');
  }
  if (typeof plan.id !== 'string' || typeof plan.tenant !== 'string' || !Array.isArray(plan.rows) || !Array.isArray(plan.steps)) {
    throw new TrailproofError('REQUEST_INVALID', 'the plan file is not a reversal plan: save the answer of POST /v1/reversals');
  }
  return plan as ReversalPlan;
}
