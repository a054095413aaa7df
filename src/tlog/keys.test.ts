import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { formatCheckpoint, openCheckpoint } from '../ledger/checkpoint.ts';
import { emptyRoot } from '../ledger/hash.ts';
import { generateSignerKey, signNote } from '../ledger/note.ts';
import { loadLedgerKeys } from './keys.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-keys-'));
  dirs.push(dir);
  return dir;
};
const keysFrom = (env: Record<string, string>, dataDir = tempDir()) => loadLedgerKeys(loadConfig(env, { dataDir, databaseUrl: 'postgres://x/y' }));

describe('ledger keys', () => {
  it('creates <dataDir>/ledger.key (0600) on first start and reuses it afterwards', () => {
    const dir = tempDir();
    const first = keysFrom({}, dir);
    const file = path.join(dir, 'ledger.key');
    expect(first.source).toEqual({ kind: 'file', path: file, created: true });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(first.host).toBe('trailproof.local');
    expect(first.origin('acme')).toBe('trailproof.local/t/acme');
    const again = keysFrom({}, dir);
    expect(again.source).toMatchObject({ created: false });
    expect(again.verifierKey).toBe(first.verifierKey);
  });

  it('names a created key after TRAILPROOF_LEDGER_HOST, and takes the host from the key otherwise', () => {
    expect(keysFrom({ TRAILPROOF_LEDGER_HOST: 'audit.example.com' }).verifierKey).toMatch(/^audit\.example\.com\+/);
    const { signerKey } = generateSignerKey('logs.example.org');
    expect(keysFrom({ TRAILPROOF_LEDGER_KEY: signerKey }).origin('a')).toBe('logs.example.org/t/a');
    expect(keysFrom({ TRAILPROOF_LEDGER_KEY: signerKey, TRAILPROOF_LEDGER_HOST: 'other.example' }).origin('a')).toBe('other.example/t/a');
  });

  it('reads TRAILPROOF_LEDGER_KEY_FILE and refuses a file others can read', () => {
    const file = path.join(tempDir(), 'k');
    const { signerKey, verifierKey } = generateSignerKey('x.example');
    fs.writeFileSync(file, `${signerKey}\n`, { mode: 0o600 });
    expect(keysFrom({ TRAILPROOF_LEDGER_KEY_FILE: file }).verifierKey).toBe(verifierKey);
    fs.chmodSync(file, 0o644);
    expect(() => keysFrom({ TRAILPROOF_LEDGER_KEY_FILE: file })).toThrow(
      expect.objectContaining({ code: 'KEY_INVALID', message: expect.stringContaining('chmod 600') }),
    );
    expect(() => keysFrom({ TRAILPROOF_LEDGER_KEY_FILE: `${file}-missing` })).toThrow(
      expect.objectContaining({ code: 'KEY_INVALID', message: expect.stringContaining('keygen') }),
    );
  });

  it('rejects bad configuration with a message naming the variable and never the key', () => {
    const { signerKey, verifierKey } = generateSignerKey('x.example');
    const broken = `${signerKey.slice(0, -2)}AA`;
    const attempt = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (err) {
        return err as { code: string; message: string };
      }
      throw new Error('accepted');
    };
    const bad = attempt({ TRAILPROOF_LEDGER_KEY: broken });
    expect(bad).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('TRAILPROOF_LEDGER_KEY') });
    expect(bad.message).not.toContain(broken.split('+')[4]);
    expect(attempt({ TRAILPROOF_LEDGER_KEY: signerKey, TRAILPROOF_LEDGER_KEY_FILE: '/k' }).message).toContain('only one');
    expect(attempt({ TRAILPROOF_LEDGER_HOST: 'has space' }).message).toContain('TRAILPROOF_LEDGER_HOST');
    expect(attempt({ TRAILPROOF_LEDGER_VERIFIER_KEYS: `${verifierKey},nonsense` }).message).toContain('TRAILPROOF_LEDGER_VERIFIER_KEYS');
    expect(attempt({ TRAILPROOF_CHECKPOINT_REISSUE_SECONDS: '-1' }).message).toContain('TRAILPROOF_CHECKPOINT_REISSUE_SECONDS');
  });

  it('keeps the signer key out of logs and serialized configuration', () => {
    const { signerKey } = generateSignerKey('x.example');
    const config = loadConfig({ TRAILPROOF_LEDGER_KEY: signerKey });
    const secretPart = signerKey.split('+')[4]!;
    expect(JSON.stringify(config)).not.toContain(secretPart);
    expect(inspect(config, { depth: 10 })).not.toContain(secretPart);
  });

  it('after a rotation, publishes the old key too, so checkpoints it signed still open', () => {
    const old = generateSignerKey('trailproof.local');
    const oldKeys = keysFrom({ TRAILPROOF_LEDGER_KEY: old.signerKey });
    const oldNote = signNote(formatCheckpoint({ origin: oldKeys.origin('acme'), size: 0, root: emptyRoot() }), [oldKeys.signerFor('acme')]);
    const rotated = keysFrom({ TRAILPROOF_LEDGER_KEY: generateSignerKey('trailproof.local').signerKey, TRAILPROOF_LEDGER_VERIFIER_KEYS: old.verifierKey });
    expect(rotated.verifierKeys).toEqual([rotated.verifierKey, old.verifierKey]);
    const [current, previous] = rotated.verifiersFor('acme');
    expect(() => openCheckpoint(oldNote, 'trailproof.local/t/acme', current!)).toThrow();
    expect(openCheckpoint(oldNote, 'trailproof.local/t/acme', previous!).checkpoint.size).toBe(0);
    expect(rotated.verifierKeysFor('acme')[1]).toBe(oldKeys.verifierKeysFor('acme')[0]);
  });
});
