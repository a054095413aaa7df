/**
 * What stalled uploads make a server hold (issue 16 acceptance: 100 stalled unauthenticated uploads
 * of several MB hold < 50 MB). A real server in its own process; N connections each announce an
 * upload of `--mb` MB to `POST /v1/events`, send `--sent-mb` of it in 64 KiB pieces, then stall.
 * The server's resident memory is sampled throughout; printed: the peak above the idle baseline,
 * and how many connections the server closed and when.
 *   npx tsx bench/stalled-uploads.ts [--connections 100] [--mb 7.5] [--sent-mb 5] [--hold 15]
 *   npx tsx bench/stalled-uploads.ts --key ingest    (a valid ingest key: held until the idle timeout)
 * Uses an embedded PostgreSQL in a scratch directory, or BENCH_DATABASE_URL.
 */
import fs from 'node:fs';
import net from 'node:net';
import { api, round, startServer, writeResult } from './lib.ts';

const arg = (name: string, fallback: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1]! : fallback);
const connections = Number(arg('--connections', '100'));
const announced = Math.round(Number(arg('--mb', '7.5')) * 1024 * 1024);
const sent = Math.round(Number(arg('--sent-mb', '5')) * 1024 * 1024);
const holdMs = Number(arg('--hold', '15')) * 1000;
const keyKind = arg('--key', 'none');

/** Resident set size of process `pid`, bytes (Linux /proc). */
const rss = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
const mb = (bytes: number) => round(bytes / 1024 / 1024, 1);

const server = await startServer();
const pid = server.process.pid!;
try {
  await api(server, server.adminKey, 'POST', '/v1/tenants', { id: 'stall' }).catch(() => {});
  const key =
    keyKind === 'ingest' ? (await api(server, server.adminKey, 'POST', '/v1/keys', { name: 'stall', scope: 'ingest', tenant: 'stall' })).secret : undefined;
  // Warm up (JIT, pools), then let the heap settle.
  for (let i = 0; i < 50; i++)
    await api(server, server.adminKey, 'POST', '/v1/events', { tenant: 'stall', action: 'bench.warm', actor: { type: 'user', id: 'w' } });
  await new Promise((r) => setTimeout(r, 2000));
  const baseline = rss(pid);
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, rss(pid))), 100);

  const started = performance.now();
  const closedAt: number[] = [];
  const piece = Buffer.alloc(64 * 1024, 0x20);
  const sockets = Array.from({ length: connections }, () => {
    const socket = net.connect(Number(new URL(server.url).port), '127.0.0.1');
    let written = 0;
    socket.on('error', () => {});
    socket.on('close', () => closedAt.push(performance.now() - started));
    // Reads what the server answers, so its closing is seen.
    socket.resume();
    socket.on('connect', () => {
      socket.write(
        `POST /v1/events HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\ncontent-length: ${announced}\r\n${key ? `authorization: Bearer ${key}\r\n` : ''}\r\n`,
      );
      const timer = setInterval(() => {
        if (written >= sent || socket.destroyed) return clearInterval(timer);
        socket.write(piece.subarray(0, Math.min(piece.length, sent - written)));
        written += piece.length;
      }, 20);
    });
    return socket;
  });
  await new Promise((r) => setTimeout(r, holdMs));
  clearInterval(sampler);
  const open = sockets.filter((s) => !s.destroyed && !s.readableEnded).length;
  for (const s of sockets) s.destroy();
  closedAt.sort((a, b) => a - b);
  const result = {
    connections,
    key: keyKind,
    announced_mb: mb(announced),
    sent_mb_each: mb(sent),
    baseline_rss_mb: mb(baseline),
    peak_rss_mb: mb(peak),
    held_mb: mb(peak - baseline),
    closed_by_server: closedAt.length,
    first_closed_ms: closedAt.length ? round(closedAt[0]!, 0) : null,
    last_closed_ms: closedAt.length ? round(closedAt[closedAt.length - 1]!, 0) : null,
    still_open_after_ms: { ms: holdMs, open },
  };
  process.stdout.write(
    `${connections} stalled uploads (${keyKind === 'none' ? 'no key' : `${keyKind} key`}, ${mb(announced)} MB announced, ${mb(sent)} MB sent each): ` +
      `server memory held ${result.held_mb} MB above ${result.baseline_rss_mb} MB (peak ${result.peak_rss_mb} MB); ` +
      `${closedAt.length} closed by the server (first after ${result.first_closed_ms} ms, last after ${result.last_closed_ms} ms), ${open} still open after ${holdMs / 1000} s\n`,
  );
  await writeResult(`stalled-uploads-${keyKind}`, result);
} finally {
  await server.stop();
}
