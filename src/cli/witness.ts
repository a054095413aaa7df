/** `trailproof witness serve|keygen`: run a c2sp.org/tlog-witness witness, make its key. */
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { parsePort } from '../config.ts';
import { TrailproofError } from '../errors.ts';
import { generateCosignerKey } from '../ledger/cosignature.ts';
import { isValidKeyName } from '../ledger/key-text.ts';
import { createLogger } from '../logger.ts';
import { DEFAULT_WITNESS_PORT, loadWitnessConfig } from '../witness/config.ts';

export function witnessCommand(): Command {
  const witness = new Command('witness').description('run a transparency-log witness (c2sp.org/tlog-witness) that cosigns consistent checkpoints');

  witness
    .command('serve')
    .description('serve POST /add-checkpoint, cosigning checkpoints of the configured logs')
    .option('--port <port>', `port to listen on (default ${DEFAULT_WITNESS_PORT})`)
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--data-dir <dir>', 'where the latest cosigned checkpoint of each log is kept (env TRAILPROOF_WITNESS_DATA_DIR; default ./.trailproof-witness)')
    .option('--key <file>', 'file holding the cosigner key (PRIVATE+KEY+…; else env TRAILPROOF_WITNESS_KEY)')
    .option('--log <origin=vkey>', 'a log to witness: its checkpoint origin and verifier key (repeatable)', collect, [])
    .option('--logs-file <file>', 'a file of <origin>=<vkey> lines (# comments allowed)')
    .action(async (opts: { port?: string; host?: string; dataDir?: string; key?: string; log: string[]; logsFile?: string }, command: Command) => {
      // The global --data-dir is the service's database directory; here it is the witness's own.
      const dataDir = opts.dataDir ?? command.optsWithGlobals<{ dataDir?: string }>().dataDir;
      const config = loadWitnessConfig({
        keyFile: opts.key,
        logs: opts.log,
        logsFile: opts.logsFile,
        dataDir,
        port: opts.port === undefined ? undefined : parsePort(opts.port),
        host: opts.host,
      });
      const logger = createLogger(process.env.LOG_LEVEL?.trim() || 'info');
      const { serveWitness } = await import('../witness/server.ts'); // Fastify: only for the command that serves
      const running = await serveWitness(config, { logger });
      process.stdout.write(`witness ${config.cosigner.verifierKey}\nlistening on ${running.url}/add-checkpoint\n`);
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.once(signal, () => {
          running.close().then(
            () => process.exit(0),
            (err: unknown) => {
              logger.error({ err }, 'shutdown failed');
              process.exit(1);
            },
          );
        });
      }
    });

  witness
    .command('keygen')
    .description('create a cosigner key pair (Ed25519, cosignature/v1): the secret key goes to --out, the verifier key to stdout')
    .requiredOption('--name <name>', 'the witness name, e.g. witness.example.com/w1')
    .requiredOption('--out <file>', 'file to create for the secret key (mode 0600; never overwritten)')
    .action((opts: { name: string; out: string }) => {
      if (!isValidKeyName(opts.name)) throw new TrailproofError('CONFIG_INVALID', '--name must be non-empty, without spaces, + or control characters');
      const { signerKey, verifierKey } = generateCosignerKey(opts.name);
      try {
        writeFileSync(opts.out, `${signerKey}\n`, { mode: 0o600, flag: 'wx' });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new TrailproofError(
          'CONFIG_INVALID',
          code === 'EEXIST' ? `${opts.out} exists already; not overwriting a key` : `cannot write ${opts.out}: ${code ?? 'error'}`,
        );
      }
      process.stdout.write(`${verifierKey}\n`);
    });

  return witness;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
