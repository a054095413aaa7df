/** S3 destination against s3rver (a real S3 API server): the contract, gzip JSON Lines objects, manifests. */
import { gunzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../event/types.ts';
import { EVENT_FORMATS } from '../export/formats.ts';
import { startS3, type S3Server } from '../../test/helpers/s3rver.ts';
import { testDestination } from './destination-contract.ts';
import { s3 } from './s3.ts';
import { sampleEvents } from './testing/sample-events.ts';

const jsonl = EVENT_FORMATS.get('jsonl')!;

function create(endpoint: string, bucket: string, extra: Record<string, unknown> = {}) {
  const config = s3.parseConfig({ bucket, endpoint, access_key_id: 'S3RVER', force_path_style: true, ...extra });
  return s3.create({ id: 'st_s3', tenant: 'acme', name: 's3', config, secret: 'S3RVER', format: jsonl });
}

const uidsOf = (objects: { key: string; body: Buffer }[]) =>
  objects
    .filter((o) => o.key.endsWith('.jsonl.gz'))
    .sort((a, b) => a.key.localeCompare(b.key))
    .flatMap((o) =>
      gunzipSync(o.body)
        .toString()
        .split('\n')
        .filter((l) => l)
        .map((l) => (JSON.parse(l) as StoredEvent).uid),
    );

testDestination(
  's3 (s3rver)',
  async () => {
    const server = await startS3(['contract']);
    return {
      format: 'jsonl',
      destination: () => create(server.endpoint, 'contract'),
      destinationAt: (host, port) => create(`http://${host}:${port}`, 'contract'),
      receivedUids: async () => uidsOf(await server.objects('contract')),
      close: () => server.close(),
    };
  },
  { acknowledges: true },
);

describe('s3', () => {
  let server: S3Server;
  beforeAll(async () => {
    server = await startS3(['audit']);
  });
  afterAll(() => server.close());

  it('writes one gzip JSON Lines object per batch and a manifest naming it; a retried batch overwrites the same keys', async () => {
    const destination = create(server.endpoint, 'audit', { prefix: 'trail/' });
    const events = sampleEvents(7, 20);
    const batch = { records: events.map((e) => jsonl.record(e)), events };
    await destination.deliver(batch, AbortSignal.timeout(10_000));
    await destination.deliver(batch, AbortSignal.timeout(10_000)); // the same batch again, as after a lost answer
    await destination.close();
    const objects = await server.objects('audit', 'trail/');
    expect(objects.map((o) => o.key).sort()).toEqual(['trail/acme/000000000007-000000000026.jsonl.gz', 'trail/acme/000000000007-000000000026.manifest.json']);
    const data = objects.find((o) => o.key.endsWith('.gz'))!.body;
    expect(
      gunzipSync(data)
        .toString()
        .split('\n')
        .filter((l) => l)
        .map((l) => JSON.parse(l)),
    ).toEqual(events);
    const manifest = JSON.parse(objects.find((o) => o.key.endsWith('.json'))!.body.toString());
    expect(manifest).toEqual({
      object: 'trail/acme/000000000007-000000000026.jsonl.gz',
      format: 'jsonl',
      tenant: 'acme',
      events: 20,
      first_index: 7,
      last_index: 26,
      first_uid: events[0]!.uid,
      last_uid: events[19]!.uid,
      bytes: data.length,
      sha256: createHash('sha256').update(data).digest('hex'),
    });
  });

  it('fails with the S3 error when S3 refuses the object', async () => {
    const destination = create(server.endpoint, 'no-such-bucket');
    await expect(destination.deliver({ records: ['{}\n'], events: sampleEvents(0, 1) }, AbortSignal.timeout(10_000))).rejects.toThrow(/NoSuchBucket/);
    await destination.close();
  });

  it('validates its settings', () => {
    expect(() => s3.parseConfig({ access_key_id: 'k' })).toThrow(/bucket/);
    expect(() => s3.parseConfig({ bucket: 'Bad_Name', access_key_id: 'k' })).toThrow(/bucket/);
    expect(() => s3.parseConfig({ bucket: 'ok-bucket' })).toThrow(/access_key_id/);
  });
});
