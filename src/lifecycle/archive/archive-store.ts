/**
 * Where archive segments live (docs/lifecycle.md#cold-archive): one small interface, two stores:
 * a local directory (the embedded default, `<data dir>/archive`) and S3-compatible storage
 * (`TRAILPROOF_ARCHIVE_URL=s3://bucket/prefix`). Objects are written once and never changed: a
 * segment is evidence, so a second write of a name must carry the same bytes.
 */
import path from 'node:path';
import { TrailproofError } from '../../errors.ts';
import { LocalArchiveStore } from './local-store.ts';
import { S3ArchiveStore } from './s3-store.ts';

export interface PutOptions {
  /** Keep the object at least until then where the store can enforce it (S3 Object Lock). Default: no lock. */
  retainUntil?: Date;
}

export interface ArchiveStore {
  /** Where objects go, for messages and manifests (never credentials). */
  readonly location: string;
  /**
   * Stores `data` under `name` (`/`-separated, no `..`). A name already stored with the same bytes
   * is left as it is; with other bytes, ARCHIVE_CONFLICT.
   */
  put(name: string, data: Uint8Array, options?: PutOptions): Promise<void>;
  /** The object's bytes; undefined when there is none. */
  get(name: string): Promise<Buffer | undefined>;
  /** The names starting with `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
  /** Optional: releases connections (a short-lived process closes it before it exits). */
  close?(): Promise<void>;
}

/** The store TRAILPROOF_ARCHIVE_URL names: `s3://bucket/prefix[?endpoint=…&path_style=true&region=…]`, `file:///dir`, or the data dir's `archive`. */
export function openArchiveStore(url: string | undefined, dataDir: string): ArchiveStore {
  if (url === undefined || url === '') return new LocalArchiveStore(path.join(dataDir, 'archive'));
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidUrl(url);
  }
  if (parsed.protocol === 'file:') return new LocalArchiveStore(parsed.pathname);
  if (parsed.protocol !== 's3:' || parsed.hostname === '') throw invalidUrl(url);
  const endpoint = parsed.searchParams.get('endpoint') ?? undefined;
  const region = parsed.searchParams.get('region') ?? undefined;
  return new S3ArchiveStore({
    bucket: parsed.hostname,
    prefix: parsed.pathname.replace(/^\/+/, ''),
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
    forcePathStyle: parsed.searchParams.get('path_style') === 'true',
  });
}

/** Refuses names that could leave the store's root or mean different things to different stores. */
export function checkName(name: string): void {
  if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(name) || name.split('/').some((part) => part === '.' || part === '..')) {
    throw new TrailproofError('INTERNAL', `invalid archive object name "${name}"`);
  }
}

function invalidUrl(url: string): TrailproofError {
  return new TrailproofError(
    'CONFIG_INVALID',
    `TRAILPROOF_ARCHIVE_URL must be s3://bucket/prefix or file:///directory, not "${url.replace(/\/\/[^@/]*@/, '//***@')}"`,
  );
}

/** A name already stored with other bytes. */
export function conflict(location: string, name: string): TrailproofError {
  return new TrailproofError('ARCHIVE_CONFLICT', `${location}: ${name} is already archived with other content; archived objects are never replaced`);
}
