/**
 * The S3-compatible archive store (AWS S3, MinIO, R2 …). Credentials and region come the usual AWS
 * way (environment, shared config, instance role); `endpoint` and path-style addressing are for
 * S3-compatible servers. Where the bucket has Object Lock enabled, each object is put in compliance
 * mode until its `retainUntil`, so not even the bucket's owner can delete it before then.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { TrailproofError } from '../../errors.ts';
import { type ArchiveStore, checkName, conflict, type PutOptions } from './archive-store.ts';

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix of every object (`trailproof/`); default none. */
  prefix?: string;
  region?: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  /** Explicit credentials (tests); default the AWS SDK's provider chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

type Sdk = typeof import('@aws-sdk/client-s3');

export class S3ArchiveStore implements ArchiveStore {
  readonly location: string;
  readonly #prefix: string;
  #client: Promise<{ s3: S3Client; sdk: Sdk }> | undefined;
  #objectLock: Promise<boolean> | undefined;

  constructor(private readonly options: S3StoreOptions) {
    const prefix = options.prefix ?? '';
    this.#prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.location = `s3://${options.bucket}/${this.#prefix}`;
  }

  async put(name: string, data: Uint8Array, options: PutOptions = {}): Promise<void> {
    checkName(name);
    const existing = await this.get(name);
    if (existing) {
      if (existing.equals(data)) return;
      throw conflict(this.location, name);
    }
    const { s3, sdk } = await this.connect();
    const lock =
      options.retainUntil && (await this.objectLockEnabled()) ? { ObjectLockMode: 'COMPLIANCE' as const, ObjectLockRetainUntilDate: options.retainUntil } : {};
    await this.call(`PUT ${name}`, () => s3.send(new sdk.PutObjectCommand({ Bucket: this.options.bucket, Key: this.#prefix + name, Body: data, ...lock })));
  }

  async get(name: string): Promise<Buffer | undefined> {
    checkName(name);
    const { s3, sdk } = await this.connect();
    try {
      const got = await s3.send(new sdk.GetObjectCommand({ Bucket: this.options.bucket, Key: this.#prefix + name }));
      return Buffer.from(await got.Body!.transformToByteArray());
    } catch (err) {
      if ((err as Error).name === 'NoSuchKey' || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
      throw unavailable(`${this.location}${name}: GET`, err);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const { s3, sdk } = await this.connect();
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.call(`LIST ${prefix}`, () =>
        s3.send(new sdk.ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: this.#prefix + prefix, ...(token ? { ContinuationToken: token } : {}) })),
      );
      for (const o of page.Contents ?? []) if (o.Key) names.push(o.Key.slice(this.#prefix.length));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return names.sort();
  }

  /** Closes the client's connections. */
  async close(): Promise<void> {
    if (this.#client) (await this.#client.catch(() => undefined))?.s3.destroy();
  }

  /** Whether the bucket has Object Lock on; asked once. A server without the API has none. */
  private objectLockEnabled(): Promise<boolean> {
    this.#objectLock ??= this.connect().then(async ({ s3, sdk }) => {
      try {
        const answer = await s3.send(new sdk.GetObjectLockConfigurationCommand({ Bucket: this.options.bucket }));
        return answer.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled';
      } catch {
        return false;
      }
    });
    return this.#objectLock;
  }

  private connect(): Promise<{ s3: S3Client; sdk: Sdk }> {
    // The SDK is big: loaded when the archive is first used, not by every process that starts.
    this.#client ??= import('@aws-sdk/client-s3').then((sdk) => ({
      sdk,
      s3: new sdk.S3Client({
        ...(this.options.region ? { region: this.options.region } : {}),
        ...(this.options.endpoint ? { endpoint: this.options.endpoint } : {}),
        ...(this.options.credentials ? { credentials: this.options.credentials } : {}),
        forcePathStyle: this.options.forcePathStyle ?? false,
      }),
    }));
    return this.#client;
  }

  private async call<T>(what: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      throw unavailable(`${this.location}: ${what}`, err);
    }
  }
}

function unavailable(what: string, err: unknown): TrailproofError {
  return new TrailproofError('ARCHIVE_UNAVAILABLE', `archive ${what} failed: ${(err as Error).name}: ${(err as Error).message}`, { cause: err });
}
