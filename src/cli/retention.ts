/**
 * `trailproof tenants retention <tenant> [--days N] [--hot-days N]`: shows a tenant's retention
 * policy, or sets it as `PUT /v1/tenants/{tenant}/retention` does (checked, recorded in the
 * tenant's trail as `retention.updated`, the actor `cli:<os user>`).
 */
import { Command } from 'commander';
import { TrailproofError } from '../errors.ts';
import type { RetentionPolicy } from '../lifecycle/retention-policy.ts';
import { tenantExists } from '../tenant/tenant-repository.ts';
import { cliActor, withDatabase } from './context.ts';

interface RetentionOptions {
  days?: string;
  hotDays?: string;
  json?: boolean;
}

export function retentionCommand(): Command {
  return new Command('retention')
    .description('show a tenant’s retention policy, or set it (days after receipt, 1–3650)')
    .argument('<tenant>', 'tenant id')
    .option('--days <n>', 'set: days an event is kept after it was received')
    .option('--hot-days <n>', 'set, with --days: days it also stays in the database when archived (≤ days)')
    .option('--json', 'print JSON')
    .action(async (tenant: string, opts: RetentionOptions, command: Command) => {
      if (opts.hotDays !== undefined && opts.days === undefined) {
        throw new TrailproofError('REQUEST_INVALID', '--hot-days needs --days (a policy is set whole)', {
          details: [{ pointer: '/days', code: 'required', message: 'required with --hot-days' }],
        });
      }
      const shown = await withDatabase(command, async (sql, config) => {
        if (!(await tenantExists(sql, tenant))) throw new TrailproofError('TENANT_NOT_FOUND', `tenant "${tenant}" does not exist`);
        const defaultDays = config.lifecycle.defaultRetentionDays;
        if (opts.days === undefined) {
          const { policyOf } = await import('../lifecycle/retention-policy.ts');
          return { tenant, ...(await policyOf(sql, tenant, defaultDays)), default_days: defaultDays };
        }
        const policy = { days: Number(opts.days), ...(opts.hotDays === undefined ? {} : { hot_days: Number(opts.hotDays) }) };
        const [{ changeRetentionPolicy, checkRetention }, { MetaAudit }, { GroupCommitter }] = await Promise.all([
          import('../lifecycle/retention-change.ts'),
          import('../audit/meta-audit.ts'),
          import('../ingest/group-commit.ts'),
        ]);
        checkRetention(policy);
        const committer = new GroupCommitter(sql);
        try {
          const set = await changeRetentionPolicy({ sql, audit: new MetaAudit(committer) }, tenant, policy, { actor: cliActor() });
          return { tenant, ...set, default_days: defaultDays };
        } finally {
          await committer.close();
        }
      });
      process.stdout.write(opts.json ? `${JSON.stringify(shown)}\n` : describePolicy(shown));
    });
}

function describePolicy(p: RetentionPolicy & { tenant: string; default_days: number }): string {
  const hot = p.hot_days === undefined ? '' : `, ${p.hot_days} of them in the database when archived`;
  const source = p.source === 'default' ? 'the service default' : `set for the tenant (service default ${p.default_days})`;
  return `${p.tenant}: events kept ${p.days} days after receipt${hot}; ${source}\n`;
}
