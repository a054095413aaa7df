/** `trailproof ledger audit [--tenant T] [--json]`: one self-audit run now; exits 1 when it finds a problem. */
import { Command } from 'commander';
import { TrailproofError } from '../errors.ts';
import { runSelfAudit, type AuditRun } from '../tlog/self-audit.ts';
import { tenantExists } from '../tenant/tenant-repository.ts';
import { existingLedgerKeys, withDatabase } from './context.ts';

export function ledgerAuditCommand(): Command {
  return new Command('audit')
    .description('re-verify the stored ledger (events, leaves, tiles, head, checkpoints) and record the run')
    .option('--tenant <id>', 'only this tenant')
    .option('--json', 'print the run as JSON')
    .action(async (opts: { tenant?: string; json?: boolean }, command: Command) => {
      const run = await withDatabase(command, async (sql, config) => {
        // The audit checks signatures with the service's keys; it must never create a new one.
        const keys = await existingLedgerKeys(config);
        if (opts.tenant !== undefined && !(await tenantExists(sql, opts.tenant)))
          throw new TrailproofError('TENANT_NOT_FOUND', `tenant "${opts.tenant}" does not exist`);
        return runSelfAudit(sql, keys, opts.tenant === undefined ? {} : { tenant: opts.tenant });
      });
      process.stdout.write(opts.json ? `${JSON.stringify(run, null, 2)}\n` : describeRun(run));
      process.exitCode = run.ok ? 0 : 1;
    });
}

function describeRun(run: AuditRun): string {
  const lines = [`self-audit run ${run.id}: ${run.ok ? 'OK' : 'PROBLEMS FOUND'}`];
  for (const [tenant, t] of Object.entries(run.tenants)) {
    const first = t.first ? `: ${t.first.kind}${t.first.index === null ? '' : ` at index ${t.first.index}`} — ${t.first.detail}` : '';
    lines.push(`  ${tenant}: ${t.ok ? 'ok' : 'FAILED'}, ${t.size} leaves, ${t.checkpoints} checkpoints${first}`);
  }
  return `${lines.join('\n')}\n`;
}
