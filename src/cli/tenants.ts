/** `trailproof tenants create|list`: the operator API, straight on the database. */
import { Command } from 'commander';
import { createTenant, listTenants } from '../tenant/tenant-repository.ts';
import { printTable, withDatabase } from './context.ts';

export function tenantsCommand(): Command {
  const cmd = new Command('tenants').description('manage tenants');
  cmd
    .command('create <id>')
    .description('create a tenant (id: letters, digits, "-", "_"; a WorkOS organization id as it is)')
    .option('--name <name>', 'display name')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { name?: string; json?: boolean }, command: Command) => {
      const tenant = await withDatabase(command, (sql) => createTenant(sql, { id, ...(opts.name ? { name: opts.name } : {}) }));
      process.stdout.write(opts.json ? `${JSON.stringify(tenant)}\n` : `created tenant ${tenant.id}\n`);
    });
  cmd
    .command('list')
    .description('list tenants')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const tenants = await withDatabase(command, (sql) => listTenants(sql));
      if (opts.json) process.stdout.write(`${JSON.stringify(tenants)}\n`);
      else printTable(tenants as unknown as Record<string, unknown>[], ['id', 'name', 'created_at']);
    });
  return cmd;
}
