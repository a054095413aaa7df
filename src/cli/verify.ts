/**
 * `trailproof verify` (a bundle) and `trailproof verify-proof` (one event's inclusion proof): offline
 * checks that trust nothing but the verifier keys given. Exit codes: 0 verified, 1 a problem was
 * found (tampering, bad signature), 2 the check could not run (unreadable file, malformed key).
 */
import fs from 'node:fs';
import os from 'node:os';
import { Command } from 'commander';
import { TrailproofError } from '../errors.ts';
import { isLedgerError } from '../ledger/errors.ts';
import { isNatural } from '../ledger/encoding.ts';
import { type EventProofInput, verifyEventProof } from '../verify/event-proof.ts';
import { trustedVerifiers } from '../verify/trusted-keys.ts';
import { formatReport } from '../verify/report.ts';
import { verifyStream } from '../verify/verify-stream.ts';
import { ProgressLine } from './progress.ts';

export const EXIT_OK = 0;
export const EXIT_FINDING = 1;
export const EXIT_CANNOT_VERIFY = 2;

export function verifyCommand(): Command {
  return new Command('verify')
    .description('verify an export bundle offline: every leaf, root, signature, and consistency with a saved checkpoint')
    .argument('<bundle>', 'the bundle file (`-` for standard input)')
    .requiredOption('--key <key>', 'a trusted verifier key (`name+id+base64`) or a file of them, one per line; repeatable', collect, [])
    .option('--since-checkpoint <file>', 'a signed checkpoint saved earlier: the bundle must extend it')
    .option('--workers <n>', `worker threads hashing leaves ahead of the checks; 0: all in one thread (default: ${defaultWorkers()})`, parseWorkers)
    .option('--json', 'print the report as JSON')
    .action((bundle: string, opts: { key: string[]; sinceCheckpoint?: string; workers?: number; json?: boolean }) =>
      runChecked(async () => {
        const keys = readKeys(opts.key);
        const since = opts.sinceCheckpoint === undefined ? undefined : readText(opts.sinceCheckpoint);
        const input = bundle === '-' ? process.stdin : fs.createReadStream(bundle, { highWaterMark: 1 << 20 });
        const total = bundle === '-' ? undefined : fileSize(bundle);
        const report = await verifyStream(
          withProgress(input, total),
          { keys, ...(since === undefined ? {} : { since }) },
          { workers: opts.workers ?? defaultWorkers() },
        );
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
        return report.ok ? EXIT_OK : EXIT_FINDING;
      }),
    );
}

/** The size of a regular file; undefined for anything else (a pipe) or an error, which reading then reports. */
function fileSize(file: string): number | undefined {
  try {
    const stat = fs.statSync(file);
    return stat.isFile() ? stat.size : undefined;
  } catch {
    return undefined;
  }
}

/** The bundle's bytes as they are read, with how far verification has got on a terminal. */
async function* withProgress(input: AsyncIterable<Buffer | string>, total: number | undefined): AsyncGenerator<Buffer | string> {
  const MiB = 2 ** 20;
  let read = 0;
  const line = new ProgressLine((seconds) => {
    const done = total ? ` of ${(total / MiB).toFixed(0)} MiB (${Math.floor((100 * read) / total)} %)` : '';
    return `verifying… ${(read / MiB).toFixed(0)} MiB${done}, ${seconds.toFixed(0)} s`;
  });
  try {
    for await (const chunk of input) {
      read += chunk.length;
      line.update();
      yield chunk;
    }
  } finally {
    line.clear();
  }
}

export function verifyProofCommand(): Command {
  return new Command('verify-proof')
    .description("verify one event's inclusion proof: a .tlog-proof file, or the JSON of GET /v1/events/{uid}/proof")
    .argument('<proof>', 'the proof file')
    .requiredOption('--key <key>', 'a trusted verifier key or a file of them; repeatable', collect, [])
    .option('--envelope <file>', "with a .tlog-proof: the event's envelope JSON (v, tenant, index, uid, received_at, commitment)")
    .option('--event <file>', "the event body (JSON) to check against the envelope's commitment")
    .option('--salt <hex>', "the event's salt (64 hex digits), with --event")
    .option('--json', 'print the result as JSON')
    .action((file: string, opts: { key: string[]; envelope?: string; event?: string; salt?: string; json?: boolean }) =>
      runChecked(async () => {
        const keys = readKeys(opts.key);
        const input = loadProof(readText(file), opts);
        const result = verifyEventProof(input, keys);
        if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        else if (result.ok)
          process.stdout.write(
            `OK: leaf ${result.index} (event ${result.uid}) is in the checkpoint of size ${result.checkpoint_size} of ${result.origin}${result.event_checked ? '; the event matches its commitment' : ''}\n`,
          );
        else process.stdout.write(`FAILED: ${result.error}\n`);
        return result.ok ? EXIT_OK : EXIT_FINDING;
      }),
    );
}

function loadProof(text: string, opts: { envelope?: string; event?: string; salt?: string }): EventProofInput {
  let input: Partial<EventProofInput> & { event?: unknown; salt?: string | null };
  if (text.trimStart().startsWith('{')) {
    const json = parseJson(text, 'the proof file') as Record<string, unknown>;
    input = {
      proof: json.proof as string,
      envelope: json.envelope as EventProofInput['envelope'],
      event: json.event ?? undefined,
      salt: (json.salt as string | null) ?? undefined,
    };
  } else {
    if (opts.envelope === undefined)
      usage("a .tlog-proof names only the leaf index: give the event's envelope with --envelope (or verify the proof JSON instead)");
    input = { proof: text, envelope: parseJson(readText(opts.envelope), '--envelope') as EventProofInput['envelope'] };
  }
  if (opts.event !== undefined) input.event = parseJson(readText(opts.event), '--event');
  if (opts.salt !== undefined) input.salt = opts.salt;
  if (typeof input.proof !== 'string') usage('the proof JSON has no "proof" text');
  const e = input.envelope;
  if (
    !e ||
    typeof e.tenant !== 'string' ||
    !isNatural(e.index) ||
    typeof e.uid !== 'string' ||
    typeof e.received_at !== 'string' ||
    !/^[0-9a-f]{64}$/.test(String(e.commitment))
  ) {
    usage('the envelope must have tenant, index, uid, received_at and a 64-hex-digit commitment');
  }
  if ((input.event === undefined) !== (input.salt === undefined || input.salt === null)) usage('--event and --salt go together');
  if (typeof input.salt === 'string' && !/^[0-9a-f]{64}$/.test(input.salt)) usage('--salt must be 64 lowercase hex digits');
  return input as EventProofInput;
}

/** Runs a verification, mapping "could not verify" errors to exit code 2 with a message. */
export async function runChecked(run: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await run();
  } catch (err) {
    const message = err instanceof TrailproofError || isLedgerError(err) ? `${err.message} (${err.code})` : err instanceof Error ? err.message : String(err);
    process.stderr.write(`error: ${message}\n`);
    process.exitCode = EXIT_CANNOT_VERIFY;
  }
}

/** Key arguments: each a key text, or a file holding key texts one per line (as GET /v1/ledger/key serves them). */
export function readKeys(values: string[]): string[] {
  const keys = values.flatMap((value) =>
    fs.existsSync(value)
      ? readText(value)
          .split('\n')
          .map((line) => line.trim())
          .filter((line) => line !== '')
      : [value],
  );
  if (keys.length === 0) usage('--key: no verifier key given');
  trustedVerifiers(keys, undefined); // CONFIG_INVALID for a malformed key, before any work
  return keys;
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    usage(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    usage(`${what} is not JSON`);
  }
}

function usage(message: string): never {
  throw new TrailproofError('REQUEST_INVALID', message);
}

/** One worker per core, at most 4 (the thread feeding the engine saturates beyond); none on one core, where they only add work. */
function defaultWorkers(): number {
  const cores = os.availableParallelism();
  return cores < 2 ? 0 : Math.min(4, cores);
}

function parseWorkers(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 64) usage('--workers must be a whole number from 0 to 64');
  return n;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
