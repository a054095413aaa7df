/**
 * The ledger's signing identity: one Ed25519 key (Go `note` signer key text, from the environment or
 * a file, never the database) that signs every tenant's checkpoints, and the verifier keys published
 * for them, old ones included so checkpoints signed before a rotation stay verifiable.
 *
 * Each tenant's log has origin `<host>/t/<tenant>` and, as c2sp.org/tlog-checkpoint recommends ("The
 * log's key name in its signature line SHOULD match the origin line"), its signatures carry the
 * origin as key name. The key ID commits to the name (c2sp.org/signed-note), so the tenant's verifier
 * key is the server key's public key under the origin's name: `<host>/t/<tenant>+<id>+<base64>`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.ts';
import { isLedgerError, LedgerError } from '../ledger/errors.ts';
import * as keyText from '../ledger/key-text.ts';
import { ED25519_SIGNATURE_TYPE, generateSignerKey, parseSignerKey, parseVerifierKey } from '../ledger/note.ts';
import type { NoteSigner, NoteVerifier } from '../ledger/note.ts';

/** Host of the origins when neither TRAILPROOF_LEDGER_HOST nor a key of another name says otherwise. */
export const DEFAULT_LEDGER_HOST = 'trailproof.local';
export const DEFAULT_KEY_FILE = 'ledger.key';

export interface LedgerKeys {
  /** Origins are `<host>/t/<tenant>`. */
  readonly host: string;
  /** The current key's verifier key text, under the key's own name. */
  readonly verifierKey: string;
  /** Every published verifier key under its own name: the current key first, then earlier ones. */
  readonly verifierKeys: readonly string[];
  /** Where the signer key came from (never the key itself). */
  readonly source: { kind: 'env' } | { kind: 'file'; path: string; created: boolean };
  origin(tenant: string): string;
  /** The signer of the tenant's checkpoints: the server key under the origin's name. */
  signerFor(tenant: string): NoteSigner;
  /** The tenant's verifier key texts (`<origin>+<id>+<base64>`), current first. */
  verifierKeysFor(tenant: string): string[];
  /** The tenant's verifiers, current first: opens every checkpoint the service ever signed for it. */
  verifiersFor(tenant: string): NoteVerifier[];
}

/**
 * The keys configured in `config.ledger`. With no key configured, `<dataDir>/ledger.key` is used and
 * created (mode 0600, name = the configured host) on first start; a key file that others can read is
 * refused. Throws KEY_INVALID for anything wrong, never quoting the signer key.
 */
export function loadLedgerKeys(config: Config): LedgerKeys {
  const { ledger } = config;
  let signerText: string;
  let source: LedgerKeys['source'];
  if (ledger.signerKey) {
    signerText = ledger.signerKey.reveal();
    source = { kind: 'env' };
  } else {
    const file = ledger.signerKeyFile ?? path.join(config.dataDir, DEFAULT_KEY_FILE);
    const created = ledger.signerKeyFile === undefined && createKeyFile(file, ledger.host ?? DEFAULT_LEDGER_HOST);
    signerText = readKeyFile(file);
    source = { kind: 'file', path: file, created };
  }
  const where = source.kind === 'env' ? 'TRAILPROOF_LEDGER_KEY' : source.path;
  const signer = withContext(where, () => parseSignerKey(signerText));
  const { publicKey } = keyText.parseSignerKey(signerText, [ED25519_SIGNATURE_TYPE]);
  const host = ledger.host ?? signer.name;
  if (!keyText.isValidKeyName(`${host}/t/x`)) throw new LedgerError('KEY_INVALID', `ledger host ${JSON.stringify(host)} cannot start an origin`);

  const older = ledger.verifierKeys.filter((k) => k !== signer.verifierKey);
  const publicKeys = [
    publicKey,
    ...older.map((k) => withContext('TRAILPROOF_LEDGER_VERIFIER_KEYS', () => keyText.parseVerifierKey(k, [ED25519_SIGNATURE_TYPE])).publicKey),
  ];
  const origin = (tenant: string) => `${host}/t/${tenant}`;
  const verifierKeysFor = (tenant: string) => publicKeys.map((pk) => keyText.formatVerifierKey(origin(tenant), ED25519_SIGNATURE_TYPE, pk));
  return {
    host,
    verifierKey: signer.verifierKey,
    verifierKeys: [signer.verifierKey, ...older],
    source,
    origin,
    signerFor: (tenant) => {
      const name = origin(tenant);
      return { name, keyId: keyText.keyId(name, ED25519_SIGNATURE_TYPE, publicKey), sign: (message) => signer.sign(message) };
    },
    verifierKeysFor,
    verifiersFor: (tenant) => verifierKeysFor(tenant).map(parseVerifierKey),
  };
}

/** Creates the key file unless it exists; true if this call created it. Safe against a concurrent start. */
function createKeyFile(file: string, name: string): boolean {
  if (fs.existsSync(file)) return false;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const { signerKey } = generateSignerKey(name);
  // Written completely under a private name, then linked into place: another process starting at the
  // same moment either wins the link (and we read its key) or sees no file at all, never half a key.
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, `${signerKey}\n`, { mode: 0o600, flag: 'w' });
  try {
    fs.linkSync(temp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

function readKeyFile(file: string): string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new LedgerError('KEY_INVALID', `ledger key file ${file} does not exist (create one with \`trailproof ledger keygen --out ${file}\`)`);
  }
  if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
    throw new LedgerError('KEY_INVALID', `ledger key file ${file} is readable by others: chmod 600 it`);
  }
  return fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
}

function withContext<T>(where: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw isLedgerError(err, 'KEY_INVALID') ? new LedgerError('KEY_INVALID', `${where}: ${err.message}`) : err;
  }
}
