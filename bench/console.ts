/**
 * The web console on a large trail (issue 4 targets: first meaningful paint ≤ 1.5 s with 1,000,000
 * events, a filter applied to the updated table ≤ 300 ms, JS shipped ≤ 150 kB gzipped). A real
 * server in its own process, Debian's Chromium driven by playwright-core.
 *   npx tsx bench/console.ts [--events 1000000] [--rounds 7] [--data-dir bench/.data/demo-<events>]
 * Shares the data dir (and its one-time `trailproof demo` fill) with bench/query.ts and bench/proof.ts.
 *
 * First meaningful paint: navigation start → the first table row on screen (signed in, tenant demo-1,
 * the default last-24-hours view), cold (no cache) and warm (assets cached, as on a return visit).
 * Filter: Enter in the filter bar → the table showing the new first page (rows all matching).
 */
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { launchChromium } from '../test/helpers/browser.ts';
import { buildWeb, WEB_DIST } from '../web/build.ts';
import { api, percentiles, startDemoServer, writeResult } from './lib.ts';

const arg = (name: string, fallback: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1]! : fallback);
const events = Number(arg('--events', '1000000'));
const rounds = Number(arg('--rounds', '7'));
const template = process.argv.includes('--data-dir') ? arg('--data-dir', '') : undefined;

await buildWeb({ quiet: true });
const sizes = shippedSizes();
process.stdout.write(
  `JS shipped to the console: ${kB(sizes.console.js.raw)} kB, ${kB(sizes.console.js.gzip)} kB gzipped (CSS ${kB(sizes.console.css.gzip)} kB gz, page ${kB(sizes.console.html.gzip)} kB gz)\n`,
);
process.stdout.write(`embed.js: ${kB(sizes.embed.raw)} kB, ${kB(sizes.embed.gzip)} kB gzipped\n`);

const server = await startDemoServer({ events, ...(template ? { template } : {}) });
const browser = await launchChromium();
try {
  const { secret } = await api(server, server.adminKey, 'POST', '/v1/keys', { name: 'bench console', scope: 'read', tenant: 'demo-1' });
  const sample = (await api(server, secret, 'GET', '/v1/events?limit=200&action=document.*')).data as {
    actor: { id: string };
    targets: { type: string; id: string }[];
    context: { ip?: string };
  }[];
  const withTarget = sample.find((e) => e.targets.length > 0)!;

  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript((key) => sessionStorage.setItem('trailproof.key', key), secret);
  // tsx (esbuild keepNames) wraps named functions in page.evaluate callbacks with __name().
  await context.addInitScript('globalThis.__name = (f) => f');
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);

  const paint = async (cold: boolean) => {
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: cold });
    await page.goto('about:blank');
    await page.goto(`${server.url}/`);
    return page
      .waitForFunction(
        () => {
          const events = document.querySelector('tp-console')?.shadowRoot?.querySelector('tp-events');
          const row = events?.shadowRoot?.querySelector('tp-event-table')?.shadowRoot?.querySelector('.row');
          return row ? performance.now() : 0;
        },
        undefined,
        { polling: 'raf', timeout: 30_000 },
      )
      .then((h) => h.jsonValue());
  };
  await paint(true); // warm-up: server caches, the first checkpoint
  const cold: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < rounds; i++) cold.push(await paint(true));
  for (let i = 0; i < rounds; i++) warm.push(await paint(false));
  const fmpCold = percentiles(cold);
  const fmpWarm = percentiles(warm);
  process.stdout.write(`first meaningful paint, cold cache  p50 ${fmpCold.p50} ms  max ${fmpCold.max} ms  (n ${fmpCold.n})\n`);
  process.stdout.write(`first meaningful paint, warm cache  p50 ${fmpWarm.p50} ms  max ${fmpWarm.max} ms  (n ${fmpWarm.n})\n`);

  const filters: [string, Record<string, string>][] = [
    ['actor', { actor: sample[0]!.actor.id }],
    ['action prefix', { action: 'user.*' }],
    ['target', { target_type: withTarget.targets[0]!.type, target_id: withTarget.targets[0]!.id }],
    ['outcome', { outcome: 'failure' }],
    ['ip range', { ip: '10.0.0.0/8' }],
    ['free text', { q: 'export' }],
    ['range 30d + actor', { range: '30d', actor: sample[1]!.actor.id }],
  ];
  const filterResults: Record<string, ReturnType<typeof percentiles>> = {};
  for (const [name, fields] of filters) {
    const samples: number[] = [];
    for (let i = 0; i < rounds; i++) {
      await applyFilter(page, {});
      samples.push(await applyFilter(page, fields));
    }
    filterResults[name] = percentiles(samples);
    process.stdout.write(`filter ${name.padEnd(18)} → table updated  p50 ${filterResults[name]!.p50} ms  max ${filterResults[name]!.max} ms\n`);
  }
  await writeResult('console', {
    events: server.events,
    shipped: sizes,
    firstMeaningfulPaint: { cold: fmpCold, warm: fmpWarm },
    filterApply: filterResults,
  });
} finally {
  await browser.close();
  await server.stop();
}

/** Fills the filter bar, presses Enter and resolves with the ms until the table shows the new first page. */
async function applyFilter(page: Page, fields: Record<string, string>): Promise<number> {
  return page.evaluate(async (f) => {
    const events = document.querySelector('tp-console')!.shadowRoot!.querySelector('tp-events') as HTMLElement & {
      loading: boolean;
      generation: number;
      shadowRoot: ShadowRoot;
    };
    const form = events.shadowRoot.querySelector('form')!;
    for (const name of ['actor', 'action', 'target_type', 'target_id', 'ip', 'q']) (form.elements.namedItem(name) as HTMLInputElement).value = f[name] ?? '';
    (form.elements.namedItem('outcome') as HTMLSelectElement).value = f.outcome ?? '';
    (form.elements.namedItem('range') as HTMLSelectElement).value = f.range ?? '24h';
    const before = events.generation;
    const t0 = performance.now();
    form.requestSubmit();
    await new Promise<void>((resolve) => {
      const check = () => {
        const table = events.shadowRoot.querySelector('tp-event-table') as HTMLElement & { updateComplete: Promise<boolean> };
        if (events.generation > before && !events.loading) void table.updateComplete.then(() => requestAnimationFrame(() => resolve()));
        else requestAnimationFrame(check);
      };
      check();
    });
    return performance.now() - t0;
  }, fields);
}

function shippedSizes() {
  const html = fs.readFileSync(path.join(WEB_DIST, 'index.html'));
  const assets = [...html.toString().matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((m) => m[1]!);
  const sum = (files: string[]) =>
    files.reduce(
      (acc, f) => {
        const body = fs.readFileSync(path.join(WEB_DIST, f));
        return { raw: acc.raw + body.length, gzip: acc.gzip + gzipSync(body, { level: 9 }).length };
      },
      { raw: 0, gzip: 0 },
    );
  const embed = fs.readFileSync(path.join(WEB_DIST, 'embed.js'));
  return {
    console: {
      js: sum(assets.filter((a) => a.endsWith('.js'))),
      css: sum(assets.filter((a) => a.endsWith('.css'))),
      html: { raw: html.length, gzip: gzipSync(html).length },
    },
    embed: { raw: embed.length, gzip: gzipSync(embed, { level: 9 }).length },
  };
}

function kB(bytes: number): string {
  return (bytes / 1024).toFixed(1);
}
