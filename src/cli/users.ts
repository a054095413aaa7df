/**
 * `trailproof users create|link|list|disable|enable`: people of the console, straight on the
 * database. `create` and `link` print a one-time sign-in link (valid 15 minutes): the way in for
 * the first owner of an install with no identity provider yet (docs/security.md#first-owner).
 */
import { Command, Option } from 'commander';
import { TrailproofError } from '../errors.ts';
import { ROLES, type Role } from '../people/roles.ts';
import { createSignInLink } from '../people/sessions.ts';
import { createUser, findUserByEmail, listUsers, updateUser } from '../people/users.ts';
import { tenantExists } from '../tenant/tenant-repository.ts';
import type { Sql } from '../store/db.ts';
import type { Config } from '../config.ts';
import { printTable, withDatabase } from './context.ts';

export function usersCommand(): Command {
  const cmd = new Command('users').description('manage the people who sign into the console');
  cmd
    .command('create')
    .description('create a user with a role and print a one-time sign-in link')
    .requiredOption('--email <email>', 'their email address (also how OIDC sign-ins find them)')
    .addOption(new Option('--role <role>', 'the role to grant').choices([...ROLES]).makeOptionMandatory())
    .option('--tenant <id>', 'grant the role on this tenant only (default: every tenant)')
    .option('--name <name>', 'display name')
    .action(async (opts: { email: string; role: Role; tenant?: string; name?: string }, command: Command) => {
      if (!/^[^\s@]+@[^\s@]+$/.test(opts.email)) throw new TrailproofError('REQUEST_INVALID', `--email must be an email address (got "${opts.email}")`);
      const link = await withDatabase(command, async (sql, config) => {
        if (opts.tenant && !(await tenantExists(sql, opts.tenant))) throw new TrailproofError('TENANT_NOT_FOUND', `tenant "${opts.tenant}" does not exist`);
        const user = await createUser(sql, {
          email: opts.email,
          name: opts.name ?? null,
          roles: [{ role: opts.role, tenant: opts.tenant ?? null }],
          grantedBy: 'cli',
        });
        if (!user)
          throw new TrailproofError(
            'USER_EXISTS',
            `a user with email ${opts.email.toLowerCase()} exists already (\`trailproof users link\` makes a sign-in link)`,
          );
        return signInLink(sql, config, user.id);
      });
      process.stdout.write(
        `created user ${opts.email.toLowerCase()} (${opts.role}${opts.tenant ? ` on ${opts.tenant}` : ''}); one-time sign-in link, valid 15 minutes:\n${link}\n`,
      );
    });
  cmd
    .command('link')
    .description('print a new one-time sign-in link for a user')
    .requiredOption('--email <email>', 'the user')
    .action(async (opts: { email: string }, command: Command) => {
      const link = await withDatabase(command, async (sql, config) => {
        const user = await findUserByEmail(sql, opts.email);
        if (!user) throw new TrailproofError('NOT_FOUND', `no user ${opts.email.toLowerCase()}`);
        if (user.disabled) throw new TrailproofError('REQUEST_INVALID', `${user.email} is disabled (\`trailproof users enable\` first)`);
        return signInLink(sql, config, user.id);
      });
      process.stdout.write(`one-time sign-in link, valid 15 minutes:\n${link}\n`);
    });
  cmd
    .command('list')
    .description('list users and their roles')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const users = await withDatabase(command, (sql) => listUsers(sql));
      if (opts.json) process.stdout.write(`${JSON.stringify(users)}\n`);
      else
        printTable(
          users.map((u) => ({ ...u, roles: u.roles.map((g) => `${g.role}@${g.tenant ?? '*'}`).join(' ') })),
          ['id', 'email', 'name', 'roles', 'disabled', 'last_sign_in_at'],
        );
    });
  for (const [name, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    cmd
      .command(name)
      .description(disabled ? 'disable a user and end their sessions at once' : 'enable a disabled user')
      .requiredOption('--email <email>', 'the user')
      .action(async (opts: { email: string }, command: Command) => {
        await withDatabase(command, async (sql) => {
          const user = await findUserByEmail(sql, opts.email);
          if (!user) throw new TrailproofError('NOT_FOUND', `no user ${opts.email.toLowerCase()}`);
          await updateUser(sql, user.id, { disabled });
        });
        process.stdout.write(`${disabled ? 'disabled' : 'enabled'} ${opts.email.toLowerCase()}\n`);
      });
  }
  return cmd;
}

async function signInLink(sql: Sql, config: Config, userId: string): Promise<string> {
  return `${config.publicUrl}/v1/auth/link?token=${await createSignInLink(sql, userId)}`;
}
