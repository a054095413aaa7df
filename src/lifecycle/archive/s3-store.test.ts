import { GetObjectLockConfigurationCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3, type S3Server } from '../../../test/helpers/s3rver.ts';
import { testArchiveStore } from './archive-store.contract.ts';
import { S3ArchiveStore } from './s3-store.ts';

let server: S3Server;
let n = 0;
beforeAll(async () => {
  server = await startS3(['archive']);
});
afterAll(() => server.close());

const store = () =>
  new S3ArchiveStore({
    bucket: 'archive',
    prefix: `run-${n}/trailproof`,
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });

testArchiveStore('S3 (s3rver)', () => {
  n += 1;
  return store();
});

describe('Object Lock', () => {
  it('writes without a lock where the server has no Object Lock API (s3rver answers 501)', async () => {
    await expect(server.client.send(new GetObjectLockConfigurationCommand({ Bucket: 'archive' }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 501 },
    });
    n += 1;
    const s3 = store();
    await s3.put('locked/segment', Buffer.from('evidence'), { retainUntil: new Date(Date.now() + 86_400_000) });
    expect((await s3.get('locked/segment'))?.toString()).toBe('evidence');
    await s3.close();
  });
});
