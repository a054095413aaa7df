/** `trailproof keys create|list|revoke`. */
import { Command, Option } from 'commander';
import { TrailproofError } from '../errors.ts';
import { createApiKey, listApiKeys, revokeApiKey, SCOPES, type Scope } from '../auth/api-keys.ts';
import { tenantExists } from '../tenant/tenant-repository.ts';
import { printTable, withDatabase } from './context.ts';

export function keysCommand(): Command {
  const cmd = new Command('keys').description('manage API keys');
  cmd
    .command('create')
    .description('create a key and print its secret (shown once)')
    .addOption(new Option('--scope <scope>', 'what the key may do').choices([...SCOPES]).makeOptionMandatory())
    .option('--tenant <id>', 'bind the key to one tenant')
    .option('--name <name>', 'a label', 'cli key')
    .option('--json', 'print JSON')
    .action(async (opts: { scope: Scope; tenant?: string; name: string; json?: boolean }, command: Command) => {
      const { key, secret } = await withDatabase(command, async (sql) => {
        if (opts.tenant && !(await tenantExists(sql, opts.tenant))) throw new TrailproofError('TENANT_NOT_FOUND', `tenant "${opts.tenant}" does not exist`);
        return createApiKey(sql, { name: opts.name, scope: opts.scope, tenant: opts.tenant ?? null });
      });
      if (opts.json) process.stdout.write(`${JSON.stringify({ ...key, secret })}\n`);
      else process.stdout.write(`created key ${key.id} (${key.scope}${key.tenant ? `, tenant ${key.tenant}` : ''}); secret, shown once:\n${secret}\n`);
    });
  cmd
    .command('list')
    .description('list keys (never their secrets)')
    .option('--tenant <id>', 'only keys bound to this tenant')
    .option('--json', 'print JSON')
    .action(async (opts: { tenant?: string; json?: boolean }, command: Command) => {
      const keys = await withDatabase(command, (sql) => listApiKeys(sql, opts.tenant ? { tenant: opts.tenant } : {}));
      if (opts.json) process.stdout.write(`${JSON.stringify(keys)}\n`);
      else printTable(keys as unknown as Record<string, unknown>[], ['id', 'name', 'scope', 'tenant', 'created_at', 'revoked_at']);
    });
  cmd
    .command('revoke <id>')
    .description('revoke a key (running servers stop accepting it within 5 s)')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const revoked = await withDatabase(command, (sql) => revokeApiKey(sql, id));
      if (!revoked) throw new TrailproofError('NOT_FOUND', `no live key ${id}`);
      process.stdout.write(`revoked key ${id}\n`);
    });
  return cmd;
}
