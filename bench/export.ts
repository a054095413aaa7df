/**
 * Export benchmark (issue 5, acceptance 3): CSV and JSON Lines from the database to a file.
 *   npx tsx bench/export.ts [--events 1000000] [--data-dir bench/.data/demo-<events>] [--formats csv,jsonl]
 * Uses the one-tenant demo data set of the other benchmarks (`demo-1`, filled once), on a copy of
 * its own (bench/lib.ts startDemoServer). Each format: `GET /v1/exports?tenant=demo-1&format=…`
 * streamed by a real server process to a file, timed from request to last byte; events counted in
 * the file.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { round, startDemoServer, writeResult } from './lib.ts';

const arg = (name: string, fallback: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1]! : fallback);
const events = Number(arg('--events', '1000000'));
const template = process.argv.includes('--data-dir') ? arg('--data-dir', '') : undefined;
const formats = arg('--formats', 'csv,jsonl').split(',');

const server = await startDemoServer({ events, ...(template ? { template } : {}) });
try {
  const results: Record<string, unknown> = {};
  for (const format of formats) {
    const file = path.join(os.tmpdir(), `trailproof-export-bench.${format}`);
    const started = performance.now();
    // node:http straight into the file: the client shares the two cores with the server and the
    // database, and fetch's web streams cost it three times as much CPU per byte.
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http
        .get(`${server.url}/v1/exports?tenant=demo-1&format=${format}`, { headers: { authorization: `Bearer ${server.adminKey}` } }, resolve)
        .on('error', reject);
    });
    if (res.statusCode !== 200) throw new Error(`export ${format}: ${res.statusCode} ${(await res.toArray()).join('')}`);
    await pipeline(res, fs.createWriteStream(file));
    const seconds = (performance.now() - started) / 1000;
    const bytes = fs.statSync(file).size;
    const records = await countRecords(file, format);
    fs.rmSync(file);
    const rate = round(records / seconds, 0);
    process.stdout.write(
      `${format}: ${records} events in ${round(seconds, 2)} s = ${rate} events/s (${round(bytes / 1e6 / seconds, 1)} MB/s, ${round(bytes / 1e6, 1)} MB)\n`,
    );
    results[format] = { events: records, seconds: round(seconds, 2), eventsPerSecond: rate, bytes };
  }
  await writeResult('export', { tenant: 'demo-1', dataSetEvents: server.events, ...results });
} finally {
  await server.stop();
}

/** Records in the file: lines for JSON Lines; for CSV, rows (a quoted field may hold line breaks), minus the header. */
async function countRecords(file: string, format: string): Promise<number> {
  let records = 0;
  let quoted = false;
  for await (const chunk of fs.createReadStream(file)) {
    const buf = chunk as Buffer;
    for (let i = 0; i < buf.length; i++) {
      const c = buf[i];
      if (format === 'csv' && c === 0x22) quoted = !quoted;
      else if (c === 0x0a && !quoted) records++;
    }
  }
  return format === 'csv' ? records - 1 : records;
}
