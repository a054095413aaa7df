/** s3rver (a real S3 API server) with its own directory and buckets; its default credentials are S3RVER/S3RVER. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { freePort } from './server-process.ts';

export interface S3Server {
  endpoint: string;
  client: S3Client;
  /** The directory s3rver keeps objects in (tests tamper with them there). */
  directory: string;
  objects(bucket: string, prefix?: string): Promise<{ key: string; body: Buffer }[]>;
  close(): Promise<void>;
}

export async function startS3(buckets: string[]): Promise<S3Server> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'trailproof-s3rver-'));
  const port = await freePort();
  const server = new S3rver({ port, address: '127.0.0.1', silent: true, directory, configureBuckets: buckets.map((name) => ({ name, configs: [] })) });
  await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  return {
    endpoint,
    client,
    directory,
    async objects(bucket, prefix) {
      const list = await client.send(new ListObjectsV2Command({ Bucket: bucket, ...(prefix ? { Prefix: prefix } : {}) }));
      return Promise.all(
        (list.Contents ?? []).map(async (o) => {
          const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }));
          return { key: o.Key!, body: Buffer.from(await got.Body!.transformToByteArray()) };
        }),
      );
    },
    async close() {
      client.destroy();
      await server.close();
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}
