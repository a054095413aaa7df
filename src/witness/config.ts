/**
 * Configuration of `trailproof witness serve`: the cosigner key, and the logs it witnesses as
 * `<origin>=<log verifier key>` entries (flags `--log`, or a file of one entry per line). An origin
 * may be listed with several keys (a log rotating its key); every mistake is a CONFIG_INVALID that
 * names the entry, never echoing a signer key.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TrailproofError } from '../errors.ts';
import { parseCosignerKey, type Cosigner } from '../ledger/cosignature.ts';
import { isValidKeyName } from '../ledger/key-text.ts';
import { parseVerifierKey, type NoteVerifier } from '../ledger/note.ts';

export interface WitnessConfig {
  cosigner: Cosigner;
  logs: Map<string, NoteVerifier[]>;
  dataDir: string;
  port: number;
  host: string;
}

export interface WitnessConfigInput {
  /** Path of a file holding the cosigner key text; else `env.TRAILPROOF_WITNESS_KEY`. */
  keyFile?: string | undefined;
  /** `<origin>=<verifier key>` entries. */
  logs?: readonly string[];
  /** A file of such entries, one per line; blank lines and `#` comments are skipped. */
  logsFile?: string | undefined;
  dataDir?: string | undefined;
  port?: number | undefined;
  host?: string | undefined;
}

export const DEFAULT_WITNESS_PORT = 3701;

export function loadWitnessConfig(input: WitnessConfigInput, env: NodeJS.ProcessEnv = process.env): WitnessConfig {
  const entries = [...(input.logs ?? [])];
  if (input.logsFile) entries.push(...readLogsFile(input.logsFile));
  if (entries.length === 0) throw invalid('name at least one log to witness: --log <origin>=<verifier key> or --logs-file <file>');
  const logs = new Map<string, NoteVerifier[]>();
  for (const entry of entries) {
    const { origin, verifier } = parseLogEntry(entry);
    const keys = logs.get(origin) ?? [];
    if (keys.some((k) => k.name === verifier.name && k.keyId === verifier.keyId)) throw invalid(`the key of ${origin} is listed twice`);
    logs.set(origin, [...keys, verifier]);
  }
  return {
    cosigner: loadCosigner(input.keyFile, env),
    logs,
    dataDir: path.resolve(input.dataDir ?? nonEmpty(env.TRAILPROOF_WITNESS_DATA_DIR) ?? '.trailproof-witness'),
    port: input.port ?? DEFAULT_WITNESS_PORT,
    host: input.host ?? '127.0.0.1',
  };
}

/**
 * `<origin>=<verifier key>`, split at the first `=`: origins are key-name-like (no spaces, no `+`)
 * and in practice never contain `=`, while a key's base64 often ends in one.
 */
export function parseLogEntry(entry: string): { origin: string; verifier: NoteVerifier } {
  const at = entry.indexOf('=');
  const origin = at < 0 ? '' : entry.slice(0, at).trim();
  const key = at < 0 ? '' : entry.slice(at + 1).trim();
  if (!origin || !key) throw invalid(`log entry ${JSON.stringify(entry)} must be <origin>=<verifier key>`);
  if (!isValidKeyName(origin)) throw invalid(`log origin ${JSON.stringify(origin)} must be non-empty, without spaces, + or control characters`);
  try {
    return { origin, verifier: parseVerifierKey(key) };
  } catch (err) {
    throw invalid(`the verifier key of log ${origin} is invalid: ${(err as Error).message}`, err);
  }
}

function loadCosigner(keyFile: string | undefined, env: NodeJS.ProcessEnv): Cosigner {
  let text: string | undefined;
  let source: string;
  if (keyFile) {
    source = keyFile;
    try {
      text = readFileSync(keyFile, 'utf8').trim();
    } catch (err) {
      throw invalid(`cannot read the witness key file ${keyFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, err);
    }
  } else {
    source = 'TRAILPROOF_WITNESS_KEY';
    text = nonEmpty(env.TRAILPROOF_WITNESS_KEY);
    if (!text) throw invalid('give the witness key: --key <file> or TRAILPROOF_WITNESS_KEY (create one with `trailproof witness keygen`)');
  }
  try {
    return parseCosignerKey(text);
  } catch (err) {
    // Key-text errors never contain the key; the source says where to look.
    throw invalid(`the witness key in ${source} is invalid: ${(err as Error).message}`, err);
  }
}

function readLogsFile(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw invalid(`cannot read the logs file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, err);
  }
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function invalid(message: string, cause?: unknown): TrailproofError {
  return new TrailproofError('CONFIG_INVALID', message, cause === undefined ? {} : { cause });
}
