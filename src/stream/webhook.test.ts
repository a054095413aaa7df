/** Webhook destination against a real local HTTPS server (test CA): the contract, the signature, the body. */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_FORMATS } from '../export/formats.ts';
import { testDestination } from './destination-contract.ts';
import { makeTestCertificates } from './testing/certificates.ts';
import { startHttpReceiver, type HttpReceiver, type ReceivedRequest } from './testing/http-receiver.ts';
import { sampleEvents } from './testing/sample-events.ts';
import { webhook, type WebhookConfig } from './webhook.ts';

const SECRET = 'whsec_test_0123456789abcdef0123456789';
const certs = makeTestCertificates();

function create(config: Record<string, unknown>, format = 'jsonl') {
  return webhook.create({
    id: 'st_test',
    tenant: 'acme',
    name: 'hook',
    config: webhook.parseConfig(config) as WebhookConfig,
    secret: SECRET,
    format: EVENT_FORMATS.get(format)!,
  });
}

/** The verification docs/streams.md shows, as a receiver would write it. */
function verify(req: ReceivedRequest, secret: string, toleranceSeconds = 300): boolean {
  const timestamp = String(req.headers['trailproof-timestamp'] ?? '');
  const signature = String(req.headers['trailproof-signature'] ?? '');
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  const expected = Buffer.from(`v1=${createHmac('sha256', secret).update(`${timestamp}.`).update(req.body).digest('hex')}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

testDestination(
  'webhook',
  async () => {
    const receiver = await startHttpReceiver({ tls: certs });
    return {
      format: 'jsonl',
      destination: () => create({ url: `${receiver.url}/hook`, ca: certs.caCert }),
      destinationAt: (host, port) => create({ url: `https://${host}:${port}/hook`, ca: certs.caCert }),
      receivedUids: async () => receiver.accepted.flatMap((r) => (JSON.parse(r.body.toString()) as { events: { uid: string }[] }).events.map((e) => e.uid)),
      close: () => receiver.close(),
    };
  },
  { acknowledges: true },
);

describe('webhook', () => {
  let receiver: HttpReceiver;
  beforeAll(async () => {
    receiver = await startHttpReceiver({ tls: certs });
  });
  afterAll(() => receiver.close());

  it('signs timestamp + body with HMAC-SHA256; the documented verification accepts it and rejects tampering', async () => {
    const destination = create({ url: `${receiver.url}/hook`, ca: certs.caCert });
    const events = sampleEvents(0, 6);
    await destination.deliver({ records: events.map((e) => EVENT_FORMATS.get('jsonl')!.record(e)) }, AbortSignal.timeout(5000));
    await destination.close();
    const req = receiver.accepted.at(-1)!;
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['trailproof-signature']).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(verify(req, SECRET)).toBe(true);
    expect(verify(req, 'another secret of the same length......')).toBe(false);
    expect(verify({ ...req, body: Buffer.from(req.body.toString().replace('acme', 'acmf')) }, SECRET)).toBe(false);
    expect(verify({ ...req, headers: { ...req.headers, 'trailproof-timestamp': String(Number(req.headers['trailproof-timestamp']) + 1) } }, SECRET)).toBe(
      false,
    );
    const body = JSON.parse(req.body.toString()) as { tenant: string; destination: string; format: string; events: unknown[] };
    expect(body).toMatchObject({ tenant: 'acme', destination: 'st_test', format: 'jsonl' });
    // The events arrive as the read API returns them, nasty values intact.
    expect(body.events).toEqual(events);
  });

  it('sends non-JSON formats as an array of record strings', async () => {
    const destination = create({ url: `${receiver.url}/hook`, ca: certs.caCert }, 'cef');
    const events = sampleEvents(10, 3);
    const records = events.map((e) => EVENT_FORMATS.get('cef')!.record(e));
    await destination.deliver({ records }, AbortSignal.timeout(5000));
    await destination.close();
    expect((JSON.parse(receiver.accepted.at(-1)!.body.toString()) as { records: string[] }).records).toEqual(records);
  });

  it('fails on a non-2xx answer, naming the status', async () => {
    receiver.mode = 'fail';
    const destination = create({ url: `${receiver.url}/hook`, ca: certs.caCert });
    await expect(destination.deliver({ records: ['{}\n'] }, AbortSignal.timeout(5000))).rejects.toThrow(/HTTP 500/);
    receiver.mode = 'ok';
    await destination.close();
  });

  it('refuses a certificate that does not chain to the configured CA', async () => {
    const destination = create({ url: `${receiver.url}/hook` });
    await expect(destination.deliver({ records: ['{}\n'] }, AbortSignal.timeout(5000))).rejects.toMatchObject({ code: 'STREAM_DELIVERY_FAILED' });
    await destination.close();
  });

  it('validates its settings', () => {
    expect(() => webhook.parseConfig({})).toThrow(/url/);
    expect(() => webhook.parseConfig({ url: 'ftp://x' })).toThrow(/https/);
    expect(() => webhook.parseConfig({ url: 'https://u:p@x' })).toThrow(/credentials/);
    expect(() => webhook.parseConfig({ url: 'https://x', extra: 1 })).toThrow(/not a setting/);
  });
});
