/**
 * The witnesses a Trailproof service pushes its checkpoints to, from `TRAILPROOF_WITNESSES`: entries
 * `<submission URL>=<witness verifier key>`, separated by commas or whitespace (neither occurs in a
 * URL or a key), e.g.
 *
 *   TRAILPROOF_WITNESSES="https://witness.example.com/=witness.example.com/w1+1c2f1a3b+BBkV…"
 *
 * The URL is the witness's submission prefix (c2sp.org/tlog-witness): requests go to
 * `<URL>/add-checkpoint`. The key is a cosignature/v1 verifier key (type 0x04). Its name identifies
 * the witness in ledger_cosignatures, so names must be unique.
 */
import { TrailproofError } from '../errors.ts';
import { parseCosignatureVerifierKey } from '../ledger/cosignature.ts';
import type { NoteVerifier } from '../ledger/note.ts';

export interface WitnessEndpoint {
  /** Submission prefix, without a trailing slash. */
  url: string;
  /** The witness's key name, as in its cosignature lines. */
  name: string;
  /** The verifier key text as configured. */
  verifierKey: string;
  verifier: NoteVerifier;
}

export function parseWitnessList(text: string | undefined, variable = 'TRAILPROOF_WITNESSES'): WitnessEndpoint[] {
  const entries = (text ?? '').split(/[\s,]+/).filter((entry) => entry !== '');
  const witnesses = entries.map((entry) => parseWitnessEntry(entry, variable));
  const names = new Set<string>();
  for (const { name } of witnesses) {
    if (names.has(name)) throw invalid(`${variable}: two witnesses are named ${name}; each witness needs its own key name`);
    names.add(name);
  }
  return witnesses;
}

function parseWitnessEntry(entry: string, variable: string): WitnessEndpoint {
  const at = entry.indexOf('=');
  if (at <= 0 || at === entry.length - 1) throw invalid(`${variable}: entry ${JSON.stringify(entry.slice(0, 80))} must be <url>=<witness verifier key>`);
  const rawUrl = entry.slice(0, at);
  const verifierKey = entry.slice(at + 1);
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw invalid(`${variable}: ${JSON.stringify(rawUrl)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(`${variable}: witness URL ${rawUrl} must be http:// or https://`);
  // Witness URLs end up in logs; the protocol has no credentials (tlog-witness: no authentication beyond the checkpoint signature).
  if (url.username || url.password) throw invalid(`${variable}: a witness URL must not contain credentials`);
  if (url.search || url.hash) throw invalid(`${variable}: witness URL ${rawUrl} must be a plain prefix, without ?query or #fragment`);
  let verifier: NoteVerifier;
  try {
    verifier = parseCosignatureVerifierKey(verifierKey);
  } catch (err) {
    throw invalid(`${variable}: the key of witness ${rawUrl} is invalid: ${(err as Error).message}`);
  }
  return { url: `${url.origin}${url.pathname}`.replace(/\/+$/, ''), name: verifier.name, verifierKey, verifier };
}

function invalid(message: string): TrailproofError {
  return new TrailproofError('CONFIG_INVALID', message);
}
