/**
 * The bundle as an export: `format=bundle` of GET /v1/exports and `trailproof export`. Unlike the
 * per-event formats it is always the tenant's whole log (filters would break verification), so it
 * has its own path beside them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Config } from '../config.ts';
import { TrailproofError } from '../errors.ts';
import type { Sql } from '../store/db.ts';
import { DEFAULT_KEY_FILE, DEFAULT_LEDGER_HOST, loadLedgerKeys, type LedgerKeys } from '../tlog/keys.ts';
import { BUNDLE_EXTENSION, BUNDLE_MEDIA_TYPE } from './bundle-format.ts';
import { bundleText } from './bundle.ts';

export const BUNDLE_EXPORT = { name: 'bundle', mediaType: BUNDLE_MEDIA_TYPE, extension: BUNDLE_EXTENSION } as const;

/** The bundle as a byte stream; the header names the tenant's origin and published keys. */
export function bundleStream(
  sql: Sql,
  tenant: string,
  identity: { origin: string; verifierKeys: readonly string[] },
  counted?: (leaves: number) => void,
): Readable {
  return Readable.from(bundleText(sql, { tenant, ...identity }, counted));
}

export function ledgerIdentityOf(keys: LedgerKeys, tenant: string): { origin: string; verifierKeys: string[] } {
  return { origin: keys.origin(tenant), verifierKeys: keys.verifierKeysFor(tenant) };
}

/**
 * For the CLI: the tenant's identity from the configured ledger key when this machine has it, else
 * the origin its stored checkpoints carry, so exporting never creates a signing key.
 */
export async function ledgerIdentity(sql: Sql, config: Config, tenant: string): Promise<{ origin: string; verifierKeys: string[] }> {
  const { ledger } = config;
  if (ledger.signerKey || ledger.signerKeyFile || fs.existsSync(path.join(config.dataDir, DEFAULT_KEY_FILE)))
    return ledgerIdentityOf(loadLedgerKeys(config), tenant);
  const [row] = await sql<{ key_name: string }[]>`select key_name from ledger_checkpoints where tenant_id = ${tenant} order by id desc limit 1`;
  return { origin: row?.key_name ?? `${ledger.host ?? DEFAULT_LEDGER_HOST}/t/${tenant}`, verifierKeys: [] };
}

/** Filters and sorting do not apply to the bundle: QUERY_INVALID naming the first one given. */
export function assertNoFilters(names: readonly string[], prefix: '/' | '--'): void {
  const [name] = names;
  if (name === undefined) return;
  const message = `${prefix}${name} does not apply to the bundle, which is always the whole log (verification needs every leaf)`;
  throw new TrailproofError('QUERY_INVALID', message, { details: [{ pointer: `/${name}`, code: 'unknown_field', message }] });
}
