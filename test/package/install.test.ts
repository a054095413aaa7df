/**
 * What users install: the tarball `npm pack` makes, installed with npm into an empty directory. There
 * `npx trailproof serve` starts on its own embedded PostgreSQL, ingests and reads back an event,
 * serves the console, and stops cleanly on SIGTERM; `npx trailproof verify` checks the exported
 * bundle in a worker thread. All of it runs the compiled dist/, with no TypeScript tooling installed.
 *
 * The install resolves the package's dependencies as a user's would, from npm's cache where it has
 * them (`--prefer-offline`), else from the registry; with the cache `npm ci` leaves, it also works
 * with no network (`--offline`).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, freePort, randomAdminKey, request, waitForReady, type Exit } from '../helpers/server-process.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
/** Tools that build Trailproof and must not be needed, or installed, to run it. */
const BUILD_TOOLS = ['typescript', 'tsx', 'esbuild', 'vite'];

let dir: string;
let tarball: string;
let packed: string[];
let server: ChildProcess | undefined;
let dataDir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-package-'));
  dataDir = path.join(dir, 'data');
  // The global setup has built dist/ and web/dist; without --ignore-scripts, `prepare` would build
  // them again, in place, under the other test files running meanwhile.
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, env: npmEnv() });
  const [pack] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  tarball = path.join(dir, pack!.filename);
  packed = pack!.files.map((f) => f.path);
}, 120_000);

afterAll(async () => {
  if (server?.pid && server.exitCode === null) process.kill(-server.pid, 'SIGKILL');
  // A server killed mid-test leaves its embedded PostgreSQL (a detached process) running.
  const postmaster = path.join(dataDir, 'pg', 'postmaster.pid');
  if (fs.existsSync(postmaster)) {
    try {
      process.kill(Number(fs.readFileSync(postmaster, 'utf8').split('\n')[0]), 'SIGQUIT');
    } catch {
      // already gone
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('holds the compiled code, its SQL, the built console, the docs and patched postgres.js; no sources, tests or native code', () => {
    const migrations = fs.readdirSync(path.join(ROOT, 'src/store/migrations')).map((name) => `dist/store/migrations/${name}`);
    expect(packed).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'LICENSE',
        'bin/trailproof.js',
        'dist/cli/main.js',
        'dist/server.js',
        'dist/verify/leaf-worker.js',
        ...migrations,
        'web/dist/index.html',
        'web/dist/embed.js',
        'docs/api.md',
        'node_modules/postgres/src/connection.js',
      ]),
    );
    const own = packed.filter((file) => !file.startsWith('node_modules/'));
    expect(own.filter((file) => file.endsWith('.ts') || /\.(c|h|gyp|node)$/.test(file) || /^(src|test|bench|web\/src)\//.test(file))).toEqual([]);
  });

  it('installs into an empty directory, where `npx trailproof serve` serves, ingests and stops cleanly', async () => {
    const app = path.join(dir, 'app');
    fs.mkdirSync(app);
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: app, env: npmEnv(), maxBuffer: 1 << 24 });
    const manifest = JSON.parse(fs.readFileSync(path.join(app, 'node_modules/trailproof/package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const tool of BUILD_TOOLS) {
      expect(Object.keys(manifest.dependencies)).not.toContain(tool);
      expect(fs.existsSync(path.join(app, 'node_modules', tool)), `node_modules/${tool}`).toBe(false);
    }

    // postgres.js ships inside the package with patches/postgres+3.4.9.patch applied, so no install
    // script has to patch it on the user's machine.
    const postgresJs = path.join(app, 'node_modules/trailproof/node_modules/postgres');
    for (const variant of ['src', 'cjs/src']) {
      expect(fs.readFileSync(path.join(postgresJs, variant, 'connection.js'), 'utf8')).toContain('porsager/postgres#1208');
    }

    const port = await freePort();
    const adminKey = randomAdminKey();
    // Its own process group: SIGTERM goes to npx and the server it started, as from a terminal's ^C
    // or a service manager (npx does not pass signals on).
    const child = spawn('npx', ['trailproof', 'serve', '--port', String(port), '--data-dir', dataDir], {
      cwd: app,
      env: npmEnv({ TRAILPROOF_ADMIN_KEY: adminKey, LOG_LEVEL: 'info' }),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server = child;
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
    // 'close': npx has exited and every process writing to its output (the server) has ended.
    const closed = new Promise<Exit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
    const url = `http://127.0.0.1:${port}`;
    await waitForReady({ url, exited: closed, output: () => output }, 120_000);

    expect((await request(`${url}/v1/tenants`, adminKey, 'POST', { id: 'acme', name: 'Acme' })).status).toBe(201);
    const event = { tenant: 'acme', action: 'user.login', actor: { type: 'user', id: 'alice' }, context: { ip: '203.0.113.7' } };
    const ingested = await request(`${url}/v1/events`, adminKey, 'POST', event);
    expect(ingested.status, ingested.text).toBe(201);
    const read = await request(`${url}/v1/events?tenant=acme&action=user.login`, adminKey);
    expect(read.status).toBe(200);
    expect(read.body.data).toEqual([expect.objectContaining({ uid: ingested.body.uid, seq: 0, action: 'user.login', actor: { type: 'user', id: 'alice' } })]);
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script');

    // The verifiable bundle, checked offline by the installed CLI in a worker thread.
    const bundle = await fetch(`${url}/v1/exports?tenant=acme&format=bundle`, { headers: { authorization: `Bearer ${adminKey}` } });
    expect(bundle.status).toBe(200);
    fs.writeFileSync(path.join(dir, 'acme.tpbundle.jsonl'), await bundle.text());
    fs.writeFileSync(path.join(dir, 'acme.vkey'), (await request(`${url}/v1/ledger/key?tenant=acme`, adminKey)).text);
    const verified = await run(
      'npx',
      ['trailproof', 'verify', path.join(dir, 'acme.tpbundle.jsonl'), '--key', path.join(dir, 'acme.vkey'), '--workers', '1', '--json'],
      {
        cwd: app,
        env: npmEnv(),
      },
    );
    const report = JSON.parse(verified.stdout);
    expect(report).toMatchObject({ ok: true, tenant: 'acme', unsigned_leaves: 0, findings: [] });
    expect(report.leaves).toBeGreaterThanOrEqual(2); // the event and the export's own record

    process.kill(-child.pid!, 'SIGTERM');
    const exit = await Promise.race([closed, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 30_000))]);
    expect(exit, output).not.toBe('timeout');
    expect(output).toContain('"msg":"stopped"');
    expect(fs.existsSync(path.join(dataDir, 'pg', 'postmaster.pid')), 'the embedded PostgreSQL still runs').toBe(false);
  }, 300_000);
});

/**
 * The environment of a user's shell: without the service's configuration and without the variables
 * `npm test` sets about this checkout, which would point the nested npm at it.
 */
function npmEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const out = childEnv(env);
  for (const name of Object.keys(out)) if (/^npm_(package_|lifecycle_|config_local_prefix$)/.test(name)) delete out[name];
  return out;
}
