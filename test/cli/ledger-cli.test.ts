/** `trailproof ledger keygen` and the signing-key configuration of a real `serve` process. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSignerKey } from '../../src/ledger/note.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { killStartedProcesses, randomAdminKey, request, runCli, startServerProcess } from '../helpers/server-process.ts';

let db: TestDatabase;
let dir: string;
beforeAll(async () => {
  db = await createTestDatabase();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-ledger-cli-'));
});
afterAll(async () => {
  await killStartedProcesses();
  await db?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('trailproof ledger keygen', () => {
  it('prints a signer key on stdout and its verifier key on stderr', async () => {
    const { code, stdout, stderr } = await runCli(['ledger', 'keygen', '--name', 'audit.example.com']);
    expect(code).toBe(0);
    const signer = parseSignerKey(stdout.trim());
    expect(signer.name).toBe('audit.example.com');
    expect(stderr).toContain(signer.verifierKey);
  });

  it('writes a new 0600 file with --out, prints the verifier key, and never overwrites', async () => {
    const file = path.join(dir, 'ledger.key');
    const first = await runCli(['ledger', 'keygen', '--out', file]);
    expect(first.code).toBe(0);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(first.stdout.trim()).toBe(parseSignerKey(fs.readFileSync(file, 'utf8').trim()).verifierKey);
    expect(first.stdout).not.toContain('PRIVATE');
    const again = await runCli(['ledger', 'keygen', '--out', file]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists');
    expect((await runCli(['ledger', 'keygen', '--name', 'a b'])).stderr).toContain('CONFIG_INVALID');
  });
});

describe('serve', () => {
  it('creates <data dir>/ledger.key on first start, logs where it is and its verifier key, and keeps it', async () => {
    const dataDir = path.join(dir, 'data');
    const env = { DATABASE_URL: db.url, TRAILPROOF_ADMIN_KEY: randomAdminKey(), TRAILPROOF_DATA_DIR: dataDir, TRAILPROOF_LEDGER_KEY: '', LOG_LEVEL: 'info' };
    const server = await startServerProcess({ env });
    const file = path.join(dataDir, 'ledger.key');
    const signer = parseSignerKey(fs.readFileSync(file, 'utf8').trim());
    expect(signer.name).toBe('trailproof.local');
    expect((await request(`${server.url}/v1/ledger/key`, null)).text).toBe(`${signer.verifierKey}\n`);
    await server.stop();
    expect(server.output()).toContain(file);
    expect(server.output()).toContain(signer.verifierKey);
    expect(server.output()).not.toContain(fs.readFileSync(file, 'utf8').trim().split('+')[4]);
    const again = await startServerProcess({ env });
    expect((await request(`${again.url}/v1/ledger/key`, null)).text).toBe(`${signer.verifierKey}\n`);
    await again.stop();
  }, 120_000);

  it('refuses to start with a malformed key, naming the variable but not the key', async () => {
    const secret = 'PRIVATE+KEY+x+00000000+AAAAsecretsecretsecret';
    const server = startServerProcess({ env: { DATABASE_URL: db.url, TRAILPROOF_LEDGER_KEY: secret } });
    const err = await server.then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toContain('TRAILPROOF_LEDGER_KEY');
    expect(err?.message).toContain('CONFIG_INVALID');
    expect(err?.message).not.toContain('AAAAsecretsecretsecret');
  });
});
