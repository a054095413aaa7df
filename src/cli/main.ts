/**
 * The `trailproof` command line. Each command lives in its own file, and only the file of the command
 * being run is loaded (all of them for help, or for a name that is not a command): `verify` of a big
 * bundle counts its start-up too, and the server (Fastify, the S3 client, every route) is loaded only
 * by the commands that run it.
 */
import { Command } from 'commander';
import { TrailproofError } from '../errors.ts';
import { isLedgerError } from '../ledger/errors.ts';
import { commandName } from './command-name.ts';
import { configFrom, openCliDatabase } from './context.ts';

/** Each command's file, by the name it is run by (`serve` and `migrate` are defined below). */
const COMMANDS: Record<string, () => Promise<Command[]>> = {
  tenants: async () => {
    const [{ tenantsCommand }, { retentionCommand }] = await Promise.all([import('./tenants.ts'), import('./retention.ts')]);
    return [tenantsCommand().addCommand(retentionCommand())];
  },
  keys: async () => [(await import('./keys.ts')).keysCommand()],
  users: async () => [(await import('./users.ts')).usersCommand()],
  demo: async () => [(await import('./demo.ts')).demoCommand()],
  export: async () => [(await import('./export.ts')).exportCommand()],
  witness: async () => [(await import('./witness.ts')).witnessCommand()],
  streams: async () => [(await import('./streams.ts')).streamsCommand()],
  ledger: async () => {
    const [{ ledgerCommand }, { ledgerAuditCommand }] = await Promise.all([import('./ledger.ts'), import('./ledger-audit.ts')]);
    return [ledgerCommand().addCommand(ledgerAuditCommand())];
  },
  verify: async () => [(await import('./verify.ts')).verifyCommand()],
  capture: async () => [(await import('./capture.ts')).captureCommand()],
  lifecycle: async () => [(await import('./lifecycle.ts')).lifecycleCommand()],
  'verify-proof': async () => [(await import('./verify.ts')).verifyProofCommand()],
  archive: async () => [(await import('./archive.ts')).archiveCommand()],
};

const program = new Command('trailproof')
  .description('Tamper-evident audit trails on PostgreSQL')
  .option('--data-dir <dir>', 'embedded database directory (env TRAILPROOF_DATA_DIR; default ./.trailproof)')
  .option('--database-url <url>', 'use this PostgreSQL instead of the embedded one (env DATABASE_URL)')
  .showHelpAfterError();

program
  .command('serve')
  .description('run the service')
  .option('--port <port>', 'port to listen on (env PORT; default 3700)')
  .option('--host <host>', 'address to listen on (env HOST; default 127.0.0.1)')
  .action(async (_opts: unknown, command: Command) => {
    const { serve } = await import('../server.ts');
    await serve(configFrom(command));
  });

program
  .command('migrate')
  .description('apply pending database migrations')
  .action(async (_opts: unknown, command: Command) => {
    // Opening the database migrates, as the schema owner; its pool then works as the service role,
    // which may not run DDL, so migrating again through it would fail.
    const db = await openCliDatabase(command, configFrom(command));
    await db.close();
    process.stdout.write(db.applied.length ? '' : 'database is up to date\n');
  });

const named = commandName(process.argv.slice(2));
const load = named !== undefined && Object.hasOwn(COMMANDS, named) ? [COMMANDS[named]!] : Object.values(COMMANDS);
for (const commands of await Promise.all(load.map((f) => f()))) for (const command of commands) program.addCommand(command);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof TrailproofError) {
    process.stderr.write(`error: ${err.message} (${err.code})\n`);
    for (const d of err.details ?? []) process.stderr.write(`  ${d.pointer || '/'}: ${d.message}\n`);
  } else if (isLedgerError(err)) {
    process.stderr.write(`error: ${err.message} (${err.code})\n`);
  } else {
    process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
});
