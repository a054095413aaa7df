/**
 * `trailproof streams create|list|status|pause|resume|replay|delete`: stream destinations, straight
 * on the database, through the same StreamService as the API, so every change is validated and
 * audited the same way (the actor is `cli:<os user>`). A running server notices changes within its
 * poll interval. Secrets never go on the command line (where `ps` and shell history see them):
 * `--secret-file` or the environment variable TRAILPROOF_STREAM_SECRET.
 */
import fs from 'node:fs';
import os from 'node:os';
import { Command } from 'commander';
import { TrailproofError } from '../errors.ts';
import type { Changer, CreateStreamInput, StreamService } from '../stream/stream-service.ts';
import { tenantExists } from '../tenant/tenant-repository.ts';
import { printTable, withDatabase } from './context.ts';

interface CreateOptions {
  tenant: string;
  name: string;
  kind: string;
  format?: string;
  config?: string;
  action?: string[];
  outcome?: 'success' | 'failure';
  since?: string;
  secretFile?: string;
  json?: boolean;
}

export function streamsCommand(): Command {
  const cmd = new Command('streams').description('manage stream destinations (push to webhooks, Splunk, syslog, S3, Datadog)');
  cmd
    .command('create')
    .description('create a destination; it delivers events committed from now on (or --since)')
    .requiredOption('--tenant <id>', 'tenant whose events it delivers')
    .requiredOption('--name <name>', 'a name, unique in the tenant')
    .requiredOption('--kind <kind>', 'webhook, splunk_hec, syslog, s3 or datadog')
    .option('--format <format>', "record format (default: the kind's first)")
    .option('--config <json>', 'settings of the kind as JSON, e.g. \'{"url":"https://siem.example/hook"}\'')
    .option('--action <pattern...>', 'only these actions (`user.login`) or prefixes (`document.*`)')
    .option('--outcome <outcome>', 'only success or failure')
    .option('--since <time>', 'RFC 3339: start with the events received since')
    .option('--secret-file <path>', 'file holding the secret (default: env TRAILPROOF_STREAM_SECRET)')
    .option('--json', 'print JSON')
    .action(async (opts: CreateOptions, command: Command) => {
      const secret = opts.secretFile ? fs.readFileSync(opts.secretFile, 'utf8').trim() : process.env.TRAILPROOF_STREAM_SECRET?.trim() || undefined;
      const input: CreateStreamInput = {
        name: opts.name,
        kind: opts.kind,
        config: parseJson(opts.config),
        ...(opts.format ? { format: opts.format } : {}),
        ...(secret ? { secret } : {}),
        ...(opts.since ? { since: opts.since } : {}),
        ...(opts.action || opts.outcome
          ? { filter: { ...(opts.action ? { actions: opts.action } : {}), ...(opts.outcome ? { outcome: opts.outcome } : {}) } }
          : {}),
      };
      const created = await withStreams(command, async (streams, by, sql) => {
        if (!(await tenantExists(sql, opts.tenant))) throw new TrailproofError('TENANT_NOT_FOUND', `tenant "${opts.tenant}" does not exist`);
        return streams.create(opts.tenant, input, by);
      });
      process.stdout.write(
        opts.json
          ? `${JSON.stringify(created)}\n`
          : `created stream ${created.id} (${created.kind}, ${created.format}) for tenant ${created.tenant}, from index ${created.cursor}\n`,
      );
    });

  cmd
    .command('list')
    .description('list destinations (never their secrets)')
    .option('--tenant <id>', "only this tenant's")
    .option('--json', 'print JSON')
    .action(async (opts: { tenant?: string; json?: boolean }, command: Command) => {
      const list = await withStreams(command, (streams) => streams.list(opts.tenant));
      if (opts.json) process.stdout.write(`${JSON.stringify(list)}\n`);
      else
        printTable(list as unknown as Record<string, unknown>[], [
          'id',
          'tenant',
          'name',
          'kind',
          'format',
          'status',
          'cursor',
          'last_success_at',
          'last_error',
        ]);
    });

  cmd
    .command('status <id>')
    .description('lag (events, seconds), last success, last error')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }, command: Command) => {
      const status = await withStreams(command, async (streams) => streams.status(await streams.get(id, null)));
      if (opts.json) process.stdout.write(`${JSON.stringify(status)}\n`);
      else
        process.stdout.write(
          `${Object.entries(status)
            .map(([k, v]) => `${k.padEnd(16)} ${v ?? '-'}`)
            .join('\n')}\n`,
        );
    });

  const change = (
    name: string,
    description: string,
    run: (streams: StreamService, id: string, by: Changer, arg?: string) => Promise<unknown>,
    argument?: string,
  ) => {
    const sub = cmd
      .command(`${name} <id>${argument ? ` <${argument}>` : ''}`)
      .description(description)
      .option('--json', 'print JSON');
    sub.action(async (id: string, ...rest: unknown[]) => {
      const command = rest.at(-1) as Command;
      const opts = (argument ? rest[1] : rest[0]) as { json?: boolean };
      const arg = argument ? (rest[0] as string) : undefined;
      const result = await withStreams(command, (streams, by) => run(streams, id, by, arg));
      process.stdout.write(opts.json && result ? `${JSON.stringify(result)}\n` : `${name}: ${id}\n`);
    });
  };
  change('pause', 'stop delivering (the cursor stays)', async (s, id, by) => s.update(await s.get(id, null), { status: 'paused' }, by));
  change('resume', 'deliver again from the cursor', async (s, id, by) => s.resume(await s.get(id, null), by));
  change(
    'replay',
    'deliver again every event received since <time> (RFC 3339)',
    async (s, id, by, since) => s.replay(await s.get(id, null), since!, by),
    'time',
  );
  change('delete', 'delete the destination', async (s, id, by) => s.delete(await s.get(id, null), by));
  return cmd;
}

/** A StreamService on the CLI's database session; its audit events are committed before it returns. */
async function withStreams<T>(
  command: Command,
  fn: (streams: StreamService, by: Changer, sql: Parameters<Parameters<typeof withDatabase>[1]>[0]) => Promise<T>,
): Promise<T> {
  // Loaded here, not at the top: event validation (for the audit events) is slow to load, and every
  // other command would pay for it at start-up.
  const [{ MetaAudit }, { GroupCommitter }, { SecretBox }, { StreamService }] = await Promise.all([
    import('../audit/meta-audit.ts'),
    import('../ingest/group-commit.ts'),
    import('../stream/secret-box.ts'),
    import('../stream/stream-service.ts'),
  ]);
  return withDatabase(command, async (sql, config) => {
    const committer = new GroupCommitter(sql);
    try {
      const streams = new StreamService({ sql, audit: new MetaAudit(committer), secrets: new SecretBox(config) });
      const by: Changer = { principal: { actor: { type: 'system', id: `cli:${os.userInfo().username}`.slice(0, 256), name: 'trailproof CLI' } } };
      return await fn(streams, by, sql);
    } finally {
      await committer.close();
    }
  });
}

function parseJson(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new TrailproofError('REQUEST_INVALID', '--config must be a JSON object', {
    details: [{ pointer: '/config', code: 'invalid_type', message: 'a JSON object' }],
  });
}
