/**
 * S3-compatible object storage (AWS S3, MinIO, R2, Ceph …) through @aws-sdk/client-s3. Each batch
 * becomes one gzip JSON Lines object and one manifest beside it:
 *
 *   <prefix><tenant>/<first index>-<last index>.<ext>.gz       the records, gzip
 *   <prefix><tenant>/<first index>-<last index>.manifest.json   {object, format, events, first/last
 *                                                               index and uid, bytes, sha256}
 *
 * Indexes are zero-padded to 12 digits so keys sort in commit order. A batch delivered twice (a
 * retry after a lost answer) writes the same keys again with the same content: at-least-once
 * delivery leaves no duplicate objects. The manifest is written after the object, so a manifest
 * always names a complete object.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import { configInvalid, deliveryFailed, JSON_FORMATS, onlyFields, stringField, urlField, type DestinationKind } from './destination.ts';

export interface S3Config {
  bucket: string;
  region: string;
  access_key_id: string;
  /** S3-compatible endpoint (MinIO, R2 …); default AWS. */
  endpoint?: string;
  /** Path-style addressing (`endpoint/bucket/key`), needed by most S3-compatible servers. */
  force_path_style: boolean;
  /** Key prefix, e.g. `trailproof/`; default none. */
  prefix: string;
}

export const s3: DestinationKind<S3Config> = {
  kind: 's3',
  formats: JSON_FORMATS,
  secret: { required: true, description: 'the secret access key' },
  parseConfig(config) {
    onlyFields(config, ['bucket', 'region', 'access_key_id', 'endpoint', 'force_path_style', 'prefix']);
    const bucket = stringField(config, 'bucket', { required: true, max: 63 })!;
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw configInvalid('bucket', 'must be an S3 bucket name (3–63 of a-z, 0-9, ".", "-")');
    if (config.force_path_style !== undefined && typeof config.force_path_style !== 'boolean') throw configInvalid('force_path_style', 'must be true or false');
    const prefix = stringField(config, 'prefix', { max: 512 }) ?? '';
    if (prefix.startsWith('/')) throw configInvalid('prefix', 'must not start with "/"');
    return {
      bucket,
      region: stringField(config, 'region', { max: 64 }) ?? 'us-east-1',
      access_key_id: stringField(config, 'access_key_id', { required: true, max: 256 })!,
      ...(config.endpoint !== undefined ? { endpoint: urlField(config, 'endpoint') } : {}),
      force_path_style: config.force_path_style === true,
      prefix,
    };
  },
  create({ tenant, config, secret, format }) {
    // The SDK is big: loaded with the first S3 destination, not by every process that starts.
    let client: Promise<{ s3: S3Client; PutObjectCommand: typeof import('@aws-sdk/client-s3').PutObjectCommand }> | undefined;
    const connect = () =>
      (client ??= import('@aws-sdk/client-s3').then(({ S3Client, PutObjectCommand }) => ({
        PutObjectCommand,
        s3: new S3Client({
          region: config.region,
          credentials: { accessKeyId: config.access_key_id, secretAccessKey: secret! },
          forcePathStyle: config.force_path_style,
          ...(config.endpoint ? { endpoint: config.endpoint } : {}),
          maxAttempts: 1, // the worker retries, with its own backoff
        }),
      })));
    const put = async (key: string, body: Buffer, contentType: string, extra: Record<string, string>, signal: AbortSignal) => {
      try {
        const { s3, PutObjectCommand } = await connect();
        await s3.send(new PutObjectCommand({ Bucket: config.bucket, Key: key, Body: body, ContentType: contentType, ...extra }), { abortSignal: signal });
      } catch (err) {
        throw deliveryFailed(`S3 PUT ${config.bucket}/${key}: ${signal.aborted ? 'timed out' : `${(err as Error).name}: ${(err as Error).message}`}`, err);
      }
    };
    return {
      async deliver({ records, events }, signal) {
        const first = events[0]!;
        const last = events.at(-1)!;
        const base = `${config.prefix}${tenant}/${pad(first.seq)}-${pad(last.seq)}`;
        const object = `${base}.${format.extension}.gz`;
        const gz = gzipSync(records.join(''));
        await put(object, gz, 'application/x-ndjson', { ContentEncoding: 'gzip' }, signal);
        const manifest = {
          object,
          format: format.name,
          tenant,
          events: events.length,
          first_index: first.seq,
          last_index: last.seq,
          first_uid: first.uid,
          last_uid: last.uid,
          bytes: gz.length,
          sha256: createHash('sha256').update(gz).digest('hex'),
        };
        await put(`${base}.manifest.json`, Buffer.from(`${JSON.stringify(manifest)}\n`), 'application/json', {}, signal);
      },
      async close() {
        if (client) (await client.catch(() => undefined))?.s3.destroy();
      },
    };
  },
};

function pad(index: number): string {
  return String(index).padStart(12, '0');
}
