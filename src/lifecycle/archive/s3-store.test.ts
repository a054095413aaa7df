import { afterAll, beforeAll } from 'vitest';
import { startS3, type S3Server } from '../../../test/helpers/s3rver.ts';
import { testArchiveStore } from './archive-store.contract.ts';
import { S3ArchiveStore } from './s3-store.ts';

let server: S3Server;
let n = 0;
beforeAll(async () => {
  server = await startS3(['archive']);
});
afterAll(() => server.close());

testArchiveStore('S3 (s3rver)', () => {
  n += 1;
  return new S3ArchiveStore({
    bucket: 'archive',
    prefix: `run-${n}/trailproof`,
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
});
