/** `trailproof ledger …`: the ledger's operator commands. */
import fs from 'node:fs';
import { Command } from 'commander';
import { TrailproofError } from '../errors.ts';
import { isValidKeyName } from '../ledger/key-text.ts';
import { generateSignerKey } from '../ledger/note.ts';
import { DEFAULT_LEDGER_HOST } from '../tlog/keys.ts';

export function ledgerCommand(): Command {
  const cmd = new Command('ledger').description('ledger keys and checks');
  cmd
    .command('keygen')
    .description('create a checkpoint signing key (Go note key text); prints the verifier key')
    .option('--name <name>', `key name, also the default ledger host (env TRAILPROOF_LEDGER_HOST; default ${DEFAULT_LEDGER_HOST})`)
    .option('--out <file>', 'write the signer key to this new file (mode 0600) instead of standard output')
    .action((opts: { name?: string; out?: string }) => {
      const name = opts.name ?? process.env.TRAILPROOF_LEDGER_HOST?.trim() ?? DEFAULT_LEDGER_HOST;
      if (!isValidKeyName(name)) throw new TrailproofError('CONFIG_INVALID', `--name must not be empty or contain spaces, "+" or control characters`);
      const { signerKey, verifierKey } = generateSignerKey(name);
      if (opts.out === undefined) {
        // Standard output carries only the secret, so `keygen > file` makes a usable key file.
        process.stdout.write(`${signerKey}\n`);
        process.stderr.write(`verifier key: ${verifierKey}\n`);
        return;
      }
      try {
        fs.writeFileSync(opts.out, `${signerKey}\n`, { mode: 0o600, flag: 'wx' });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new TrailproofError('CONFIG_INVALID', `${opts.out} already exists; not overwriting a key`);
        throw err;
      }
      process.stderr.write(`wrote the signer key to ${opts.out}; verifier key:\n`);
      process.stdout.write(`${verifierKey}\n`);
    });
  return cmd;
}
