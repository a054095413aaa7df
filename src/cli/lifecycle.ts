/**
 * `trailproof lifecycle run [--tenant T]`: one lifecycle run now (docs/lifecycle.md "Runs"), the
 * same as a scheduled run or `POST /v1/lifecycle/run`: archive, then purge, what has expired, with
 * the service's archive and ledger keys. Safe beside a running server (runs of one tenant take
 * turns); exits 1 when a tenant's run failed.
 */
import { Command } from 'commander';
import { TrailproofError } from '../errors.ts';
import type { LifecycleRunResult } from '../lifecycle/lifecycle-run.ts';
import { tenantExists } from '../tenant/tenant-repository.ts';
import { existingLedgerKeys, withDatabase } from './context.ts';

export function lifecycleCommand(): Command {
  const cmd = new Command('lifecycle').description('the data lifecycle: retention runs');
  cmd
    .command('run')
    .description('archive, then purge, what has expired under each tenant’s retention policy')
    .option('--tenant <id>', 'only this tenant')
    .option('--json', 'print the run as JSON')
    .action(async (opts: { tenant?: string; json?: boolean }, command: Command) => {
      const run = await withDatabase(command, async (sql, config) => {
        if (opts.tenant !== undefined && !(await tenantExists(sql, opts.tenant)))
          throw new TrailproofError('TENANT_NOT_FOUND', `tenant "${opts.tenant}" does not exist`);
        // Purge records are signed into the ledger with the service's keys; never with a new one.
        const keys = await existingLedgerKeys(config);
        // Loaded here: the services (archive, audit, ledger) are what this command runs.
        const { createServices } = await import('../http/services.ts');
        const services = createServices(sql, config, undefined, keys);
        try {
          return await services.lifecycle.run(opts.tenant, 'cli', (at) =>
            process.stderr.write(`${at.tenant}: ${at.phase} ${at.done}/${at.range[1] - at.range[0]} of [${at.range[0]}, ${at.range[1]})\n`),
          );
        } finally {
          await services.committer.close();
        }
      });
      process.stdout.write(opts.json ? `${JSON.stringify(run, null, 2)}\n` : describeRun(run));
      process.exitCode = run.failed.length === 0 ? 0 : 1;
    });
  return cmd;
}

function describeRun(run: LifecycleRunResult & { id: string }): string {
  const lines = [`lifecycle run ${run.id} ${run.started_at} .. ${run.finished_at}: ${run.failed.length === 0 ? 'OK' : 'FAILED'}`];
  for (const t of run.tenants) {
    const policy = `${t.policy.days} days${t.policy.hot_days === undefined ? '' : ` (${t.policy.hot_days} hot)`}`;
    const records = t.records.map((r) => `record ${r.index} [${r.range[0]}, ${r.range[1]})`).join(', ');
    lines.push(`  ${t.tenant}: ${policy}, purged ${t.removed} payloads${records ? `; ${records}` : ''}`);
  }
  for (const f of run.failed) lines.push(`  ${f.tenant}: FAILED — ${f.error}`);
  return `${lines.join('\n')}\n`;
}
