/**
 * Query benchmark over a large tenant: a real server in its own process, queries over HTTP.
 *   npx tsx bench/query.ts [--events 1000000] [--rounds 200] [--data-dir bench/.data/demo-<events>]
 * The data dir is the demo data set, filled once by `trailproof demo` and kept; each run reads a
 * copy of it, so the run's own audited reads do not grow it (bench/lib.ts startDemoServer).
 */
import { api, percentiles, startDemoServer, writeResult } from './lib.ts';

const arg = (name: string, fallback: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1]! : fallback);
const events = Number(arg('--events', '1000000'));
const rounds = Number(arg('--rounds', '200'));
const template = process.argv.includes('--data-dir') ? arg('--data-dir', '') : undefined;

const server = await startDemoServer({ events, ...(template ? { template } : {}) });
try {
  const { secret } = await api(server, server.adminKey, 'POST', '/v1/keys', { name: 'bench reader', scope: 'read', tenant: 'demo-1' });
  const now = Date.now();
  const day = 86_400_000;
  const rand = (n: number) => Math.floor(Math.random() * n);
  const cases: Record<string, () => string> = {
    actor: () => `actor=user_${rand(200)}`,
    'action prefix': () => `action=${['user.*', 'document.*', 'member.*', 'api_key.*'][rand(4)]}`,
    'action exact (rare)': () => 'action=member.role_changed&outcome=success',
    target: () => `target_type=document&target_id=doc_${['q3-forecast', 'payroll-2026', 'customer-list', 'roadmap'][rand(4)]}`,
    'target window (customer, 30 d)': () => {
      const end = now - rand(700) * day;
      return `target_type=customer&target_id=cust_zara&since=${new Date(end - 30 * day).toISOString()}&until=${new Date(end).toISOString()}`;
    },
    'time window (1 d)': () => {
      const end = now - rand(700) * day;
      return `since=${new Date(end - day).toISOString()}&until=${new Date(end).toISOString()}`;
    },
    'failed logins, 1 h': () => {
      const end = now - rand(700) * day;
      return `action=user.login_failed&since=${new Date(end - 3_600_000).toISOString()}&until=${new Date(end).toISOString()}`;
    },
    'full text': () => `q=${['payroll', 'forecast', 'zara', 'csv'][rand(4)]}`,
  };
  const results: Record<string, ReturnType<typeof percentiles> & { rows: number }> = {};
  for (const [name, make] of Object.entries(cases)) {
    const samples: number[] = [];
    let rows = 0;
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      const page = await api(server, secret, 'GET', `/v1/events?limit=100&${make()}`);
      samples.push(performance.now() - t0);
      rows += page.data.length;
    }
    results[name] = { ...percentiles(samples.slice(5)), rows: Math.round(rows / rounds) };
    process.stdout.write(
      `${name.padEnd(32)} p50 ${results[name]!.p50} ms  p95 ${results[name]!.p95} ms  p99 ${results[name]!.p99} ms  (avg ${results[name]!.rows} rows/page)\n`,
    );
  }
  await writeResult('query', { events: server.events, rounds, pageSize: 100, queries: results });
} finally {
  await server.stop();
}
