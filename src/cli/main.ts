/**
 * The `trailproof` command line. Each command lives in its own file. The server (Fastify, the S3
 * client, every route) is loaded only by the commands that run it: a CLI command starts in a
 * fraction of the time (`verify` of a big bundle counts its start-up too).
 */
import { Command } from 'commander';
import { TrailproofError } from '../errors.ts';
import { openDatabase } from '../store/database.ts';
import { configFrom } from './context.ts';
import { demoCommand } from './demo.ts';
import { exportCommand } from './export.ts';
import { keysCommand } from './keys.ts';
import { ledgerCommand } from './ledger.ts';
import { ledgerAuditCommand } from './ledger-audit.ts';
import { streamsCommand } from './streams.ts';
import { tenantsCommand } from './tenants.ts';
import { verifyCommand, verifyProofCommand } from './verify.ts';
import { witnessCommand } from './witness.ts';

const program = new Command('trailproof')
  .description('Tamper-evident audit trails on PostgreSQL')
  .option('--data-dir <dir>', 'embedded database directory (env TRAILPROOF_DATA_DIR; default ./.trailproof)')
  .option('--database-url <url>', 'use this PostgreSQL instead of the embedded one (env DATABASE_URL)')
  .showHelpAfterError();

program.command('serve')
  .description('run the service')
  .option('--port <port>', 'port to listen on (env PORT; default 3700)')
  .option('--host <host>', 'address to listen on (env HOST; default 127.0.0.1)')
  .action(async (_opts: unknown, command: Command) => {
    const { serve } = await import('../server.ts');
    await serve(configFrom(command));
  });

program.command('migrate')
  .description('apply pending database migrations')
  .action(async (_opts: unknown, command: Command) => {
    // Opening the database migrates, as the schema owner; its pool then works as the service role,
    // which may not run DDL, so migrating again through it would fail.
    const db = await openDatabase(configFrom(command), { log: (m) => process.stderr.write(`${m}\n`), name: 'trailproof-cli' });
    await db.close();
    process.stdout.write(db.applied.length ? '' : 'database is up to date\n');
  });

program.addCommand(tenantsCommand());
program.addCommand(keysCommand());
program.addCommand(demoCommand());
program.addCommand(exportCommand());
program.addCommand(witnessCommand());
program.addCommand(streamsCommand());
program.addCommand(ledgerCommand().addCommand(ledgerAuditCommand()));
program.addCommand(verifyCommand());
program.addCommand(verifyProofCommand());

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof TrailproofError) {
    process.stderr.write(`error: ${err.message} (${err.code})\n`);
    for (const d of err.details ?? []) process.stderr.write(`  ${d.pointer || '/'}: ${d.message}\n`);
  } else {
    process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
});
