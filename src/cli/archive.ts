/**
 * `trailproof archive …` (docs/lifecycle.md#cold-archive): `verify` checks one segment offline,
 * trusting only the verifier keys given (exit codes as `trailproof verify`: 0 verified, 1 a
 * finding, 2 could not verify); `list`, `get` and `export` read a tenant's archived periods
 * through the service's database and archive store.
 */
import fs from 'node:fs';
import { Command } from 'commander';
import { TrailproofError } from '../errors.ts';
import type { ArchiveStore } from '../lifecycle/archive/archive-store.ts';
import { MANIFEST_EXTENSION, SEGMENT_EXTENSION, type SegmentManifest } from '../lifecycle/archive/segment-format.ts';
import { verifySegment, type SegmentReport } from '../lifecycle/archive/segment-verify.ts';
import type { ArchiveService } from '../lifecycle/archive/archive-service.ts';
import { tenantExists } from '../tenant/tenant-repository.ts';
import { printTable, withDatabase } from './context.ts';
import { EXIT_FINDING, EXIT_OK, readKeys, runChecked } from './verify.ts';

export function archiveCommand(): Command {
  const cmd = new Command('archive').description('the cold archive: verify a segment offline; list, get and export archived events');
  cmd
    .command('verify')
    .description('verify an archive segment offline: whole, in order, and its leaves in a checkpoint signed by a trusted key')
    .argument('<segment>', 'the segment: a file (`-` for standard input), an http(s) URL, or s3://bucket/key[?endpoint=…&path_style=true&region=…]')
    .requiredOption('--key <key>', 'a trusted verifier key (`name+id+base64`) or a file of them, one per line; repeatable', collect, [])
    .option('--manifest <file>', 'the manifest to check the segment against (default: the one beside the segment, if there is one)')
    .option('--json', 'print the report as JSON')
    .action((segment: string, opts: { key: string[]; manifest?: string; json?: boolean }) =>
      runChecked(async () => {
        const keys = readKeys(opts.key);
        const { bytes, manifest } = await loadSegment(segment, opts.manifest);
        const report = verifySegment(bytes, { keys, ...(manifest ? { manifest } : {}) });
        process.stdout.write(
          opts.json ? `${JSON.stringify({ ...report, manifest_checked: manifest !== undefined }, null, 2)}\n` : formatReport(report, manifest),
        );
        return report.ok ? EXIT_OK : EXIT_FINDING;
      }),
    );

  cmd
    .command('list')
    .description("a tenant's archived segments, oldest first")
    .requiredOption('--tenant <tenant>', 'the tenant')
    .option('--json', 'print JSON')
    .action(async (opts: { tenant: string; json?: boolean }, command: Command) => {
      const segments = await withArchive(command, opts.tenant, (archive) => archive.list(opts.tenant));
      if (opts.json) process.stdout.write(`${JSON.stringify(segments, null, 2)}\n`);
      else printTable(segments as unknown as Record<string, unknown>[], ['from', 'to', 'name', 'bytes', 'checkpoint_size', 'created_at']);
    });

  cmd
    .command('get')
    .description('one archived event with its inclusion proof (JSON that `trailproof verify-proof` checks)')
    .requiredOption('--tenant <tenant>', 'the tenant')
    .argument('<index>', 'the leaf index of the event', parseIndex)
    .action(async (index: number, opts: { tenant: string }, command: Command) => {
      const event = await withArchive(command, opts.tenant, (archive) => archive.archivedEvent(opts.tenant, index));
      if (!event) throw new TrailproofError('NOT_FOUND', `no archived segment of ${opts.tenant} holds leaf ${index}`);
      process.stdout.write(`${JSON.stringify(event, null, 2)}\n`);
    });

  cmd
    .command('export')
    .description('the archived events of a range of leaf indices as JSON Lines (envelope, event, salt), oldest first')
    .requiredOption('--tenant <tenant>', 'the tenant')
    .option('--from <index>', 'first leaf index (default 0)', parseIndex)
    .option('--to <index>', 'leaf index to stop before (default: the end of the archive)', parseIndex)
    .option('--out <file>', 'write to this file instead of standard output')
    .action(async (opts: { tenant: string; from?: number; to?: number; out?: string }, command: Command) => {
      const from = opts.from ?? 0;
      const to = opts.to ?? Number.MAX_SAFE_INTEGER;
      if (to <= from) throw new TrailproofError('REQUEST_INVALID', '--to must be after --from');
      const out = opts.out === undefined ? process.stdout : fs.createWriteStream(opts.out, { flags: 'wx' });
      const written = await withArchive(command, opts.tenant, async (archive) => {
        let count = 0;
        for await (const line of archive.exportRange(opts.tenant, from, to)) {
          if (!out.write(`${JSON.stringify(line)}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
          count += 1;
        }
        return count;
      });
      if (out !== process.stdout)
        await new Promise<void>((resolve, reject) => (out as fs.WriteStream).end((err?: Error | null) => (err ? reject(err) : resolve())));
      process.stderr.write(`exported ${written} archived events\n`);
    });
  return cmd;
}

/** Runs `fn` with the archive on the CLI's database session, once the tenant is known to exist. */
async function withArchive<T>(command: Command, tenant: string, fn: (archive: ArchiveService) => Promise<T>): Promise<T> {
  const { openArchiveService } = await import('../lifecycle/archive/open-archive.ts');
  return withDatabase(command, async (sql, config) => {
    if (!(await tenantExists(sql, tenant))) throw new TrailproofError('TENANT_NOT_FOUND', `tenant "${tenant}" does not exist`);
    const archive = openArchiveService(sql, config);
    try {
      return await fn(archive);
    } finally {
      await archive.close();
    }
  });
}

/** The segment's bytes and, when given or found beside it, its manifest. */
async function loadSegment(source: string, manifestFile: string | undefined): Promise<{ bytes: Buffer; manifest?: SegmentManifest }> {
  const manifestOf = (bytes: Buffer | undefined, where: string): SegmentManifest | undefined => {
    if (bytes === undefined) return undefined;
    try {
      return JSON.parse(bytes.toString('utf8')) as SegmentManifest;
    } catch {
      throw new TrailproofError('REQUEST_INVALID', `the manifest ${where} is not JSON`);
    }
  };
  const given = manifestFile === undefined ? undefined : manifestOf(readFile(manifestFile), manifestFile);
  if (source === '-') return withManifest(await readStdin(), given);
  if (/^https?:\/\//.test(source)) return withManifest(await download(source), given);
  if (source.startsWith('s3://')) {
    const { store, name } = await storeObject(source);
    try {
      const bytes = await store.get(name);
      if (!bytes) throw new TrailproofError('REQUEST_INVALID', `${source}: no such object`);
      return withManifest(bytes, given ?? manifestOf(await store.get(besideManifest(name)), 'beside the segment'));
    } finally {
      await store.close?.();
    }
  }
  const file = source.startsWith('file://') ? new URL(source).pathname : source;
  const beside = besideManifest(file);
  return withManifest(readFile(file), given ?? (beside !== file && fs.existsSync(beside) ? manifestOf(readFile(beside), beside) : undefined));
}

function withManifest(bytes: Buffer, manifest: SegmentManifest | undefined): { bytes: Buffer; manifest?: SegmentManifest } {
  return manifest ? { bytes, manifest } : { bytes };
}

/** `s3://bucket/key?…` as the store of that bucket (no prefix) and the key. */
async function storeObject(url: string): Promise<{ store: ArchiveStore; name: string }> {
  const { openArchiveStore } = await import('../lifecycle/archive/archive-store.ts');
  const parsed = new URL(url);
  const name = decodeURIComponent(parsed.pathname.replace(/^\/+/, ''));
  if (name === '') throw new TrailproofError('REQUEST_INVALID', `${url} names a bucket but no segment`);
  return { store: openArchiveStore(`s3://${parsed.hostname}${parsed.search}`, ''), name };
}

function besideManifest(name: string): string {
  return name.endsWith(`.${SEGMENT_EXTENSION}`) ? name.slice(0, -SEGMENT_EXTENSION.length) + MANIFEST_EXTENSION : name;
}

/** An http(s) segment, with TRAILPROOF_API_KEY as the bearer when set (GET /v1/archive/segments/{tenant}/{from}). */
async function download(url: string): Promise<Buffer> {
  const key = process.env.TRAILPROOF_API_KEY;
  let res: Response;
  try {
    res = await fetch(url, key ? { headers: { authorization: `Bearer ${key}` } } : {});
  } catch (err) {
    throw new TrailproofError('REQUEST_INVALID', `cannot fetch ${url}: ${(err as Error).message}`);
  }
  if (!res.ok) throw new TrailproofError('REQUEST_INVALID', `cannot fetch ${url}: HTTP ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

function readFile(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new TrailproofError('REQUEST_INVALID', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function formatReport(report: SegmentReport, manifest: SegmentManifest | undefined): string {
  const what = report.tenant === undefined ? 'the segment' : `segment ${report.tenant} [${report.from}, ${report.to})`;
  if (report.ok) {
    return `OK: ${what}: ${report.leaves} leaves in the checkpoint of size ${report.checkpointSize}${manifest ? ', as its manifest says' : ' (no manifest checked)'}\n`;
  }
  return `FAILED: ${what}\n${report.problems.map((p) => `  - ${p}\n`).join('')}`;
}

function parseIndex(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new TrailproofError('REQUEST_INVALID', `a leaf index is a whole number, not "${value}"`);
  return n;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
