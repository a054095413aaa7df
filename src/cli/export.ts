/**
 * `trailproof export --tenant T --format F [filters] [--out file]`: the same export as
 * GET /v1/exports, straight from the database, to stdout or a file, with progress on a terminal.
 */
import fs from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command } from 'commander';
import { exportRecords } from '../export/export-records.ts';
import { EVENT_FORMATS, unknownFormat } from '../export/formats.ts';
import { BUNDLE_EXPORT, assertNoFilters, bundleStream, ledgerIdentity } from '../export/bundle-export.ts';
import { parseEventQuery } from '../query/filters.ts';
import { TrailproofError } from '../errors.ts';
import { withDatabase } from './context.ts';
import { ProgressLine } from './progress.ts';

const FILTERS = ['actor', 'action', 'target-type', 'target-id', 'outcome', 'ip', 'since', 'until', 'q'] as const;

export function exportCommand(): Command {
  const command = new Command('export')
    .description("export a tenant's events (docs/exports.md)")
    .requiredOption('--tenant <id>', 'tenant to export')
    .requiredOption(
      '--format <format>',
      `one of ${[...EVENT_FORMATS.keys()].join(', ')}, or bundle (the verifiable bundle of the whole log, for \`trailproof verify\`)`,
    )
    .option('--out <file>', 'write here instead of stdout')
    .option('--sort <order>', 'asc (oldest first) or desc', 'asc');
  for (const f of FILTERS) command.option(`--${f} <value>`, `filter, as ${f.replace('-', '_')}= of GET /v1/events`);
  return command.action(async (opts: Record<string, string | undefined>, cmd: Command) => {
    if (opts.format === BUNDLE_EXPORT.name) return exportBundle(opts, cmd);
    const format = EVENT_FORMATS.get(opts.format!);
    if (!format) throw unknownFormat(opts.format);
    const params: Record<string, string> = { sort: opts.sort! };
    for (const f of FILTERS) {
      const value = opts[camel(f)];
      if (value !== undefined) params[f.replace('-', '_')] = value;
    }
    const query = parseEventQuery(params);
    await withDatabase(cmd, async (sql) => {
      const tenants = await sql`select 1 from tenants where id = ${opts.tenant!}`;
      if (tenants.length === 0) throw new TrailproofError('TENANT_NOT_FOUND', `tenant "${opts.tenant}" does not exist`);
      const out = opts.out ? fs.createWriteStream(opts.out) : process.stdout;
      const progress = new Progress();
      await pipeline(
        Readable.from(
          exportRecords(sql, opts.tenant!, query, format, (events) => progress.add(events)),
          { objectMode: false },
        ),
        out,
      );
      progress.done(opts.out);
    });
  });
}

/** The verifiable bundle of the whole log (docs/bundle.md): no filters, no sorting. */
async function exportBundle(opts: Record<string, string | undefined>, cmd: Command): Promise<void> {
  const given = FILTERS.filter((f) => opts[camel(f)] !== undefined);
  if (cmd.getOptionValueSource('sort') === 'cli') given.push('sort' as never);
  assertNoFilters(given, '--');
  const tenant = opts.tenant!;
  await withDatabase(cmd, async (sql, config) => {
    const tenants = await sql`select 1 from tenants where id = ${tenant}`;
    if (tenants.length === 0) throw new TrailproofError('TENANT_NOT_FOUND', `tenant "${tenant}" does not exist`);
    const out = opts.out ? fs.createWriteStream(opts.out) : process.stdout;
    const progress = new Progress();
    await pipeline(bundleStream(sql, tenant, await ledgerIdentity(sql, config, tenant)), progress.lineCounter(), out);
    progress.done(opts.out, 'lines');
  });
}

function camel(flag: string): string {
  return flag.replace(/-(\w)/, (_, c: string) => c.toUpperCase());
}

/** Events per second on one refreshed stderr line (terminals only); a summary line at the end. */
class Progress {
  private count = 0;
  private readonly line = new ProgressLine((seconds) => `exporting… ${this.count} events (${Math.round(this.count / Math.max(0.001, seconds))}/s)`);

  /** Counts `events` more exported. */
  add(events: number): void {
    this.count += events;
    this.line.update();
  }

  /** Counts the lines of a text stream (the bundle) instead of events. */
  lineCounter(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) this.count++;
        this.line.update();
        done(null, chunk);
      },
    });
  }

  done(file: string | undefined, unit = 'events'): void {
    this.line.clear();
    process.stderr.write(`exported ${this.count} ${unit} in ${this.line.seconds.toFixed(1)} s${file ? ` to ${file}` : ''}\n`);
  }
}
