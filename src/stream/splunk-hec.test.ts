/** Splunk HEC destination against a real local HTTPS server: the contract, the token header, the envelopes. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../event/types.ts';
import { EVENT_FORMATS } from '../export/formats.ts';
import { testDestination } from './destination-contract.ts';
import { splunkHec } from './splunk-hec.ts';
import { makeTestCertificates } from './testing/certificates.ts';
import { startHttpReceiver, type HttpReceiver, type ReceivedRequest } from './testing/http-receiver.ts';
import { sampleEvents } from './testing/sample-events.ts';

const TOKEN = '11111111-2222-3333-4444-555555555555';
const certs = makeTestCertificates();
const hec = EVENT_FORMATS.get('hec')!;

function create(config: Record<string, unknown>) {
  return splunkHec.create({ id: 'st_hec', tenant: 'acme', name: 'splunk', config: splunkHec.parseConfig(config), secret: TOKEN, format: hec });
}

/** HEC bodies are JSON objects concatenated (whitespace between them allowed): split them like Splunk does. */
function envelopes(req: ReceivedRequest): { time: number; host: string; source: string; sourcetype: string; index?: string; event: StoredEvent }[] {
  const text = req.body.toString();
  const out: never[] = [];
  let depth = 0,
    start = -1,
    inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' && depth++ === 0) start = i;
    else if (c === '}' && --depth === 0) out.push(JSON.parse(text.slice(start, i + 1)) as never);
  }
  return out;
}

testDestination(
  'splunk_hec',
  async () => {
    const receiver = await startHttpReceiver({ tls: certs });
    return {
      format: 'hec',
      destination: () => create({ url: receiver.url, ca: certs.caCert }),
      destinationAt: (host, port) => create({ url: `https://${host}:${port}`, ca: certs.caCert }),
      receivedUids: async () => receiver.accepted.flatMap((r) => envelopes(r).map((e) => e.event.uid)),
      close: () => receiver.close(),
    };
  },
  { acknowledges: true },
);

describe('splunk_hec', () => {
  let receiver: HttpReceiver;
  beforeAll(async () => {
    receiver = await startHttpReceiver({ tls: certs });
  });
  afterAll(() => receiver.close());

  it('POSTs concatenated HEC envelopes to /services/collector/event with the token', async () => {
    const destination = create({ url: `${receiver.url}/`, ca: certs.caCert, index: 'audit', sourcetype: 'trailproof:json' });
    const events = sampleEvents(0, 5);
    await destination.deliver({ records: events.map((e) => hec.record(e)), events }, AbortSignal.timeout(5000));
    await destination.close();
    const req = receiver.accepted.at(-1)!;
    expect(req.path).toBe('/services/collector/event');
    expect(req.headers.authorization).toBe(`Splunk ${TOKEN}`);
    const got = envelopes(req);
    expect(got.map((e) => e.event)).toEqual(events);
    expect(got[0]).toMatchObject({
      index: 'audit',
      sourcetype: 'trailproof:json',
      source: 'trailproof:acme',
      host: 'trailproof',
      time: Date.parse(events[0]!.occurred_at) / 1000,
    });
  });

  it('carries only the hec format and needs a URL', () => {
    expect(splunkHec.formats).toEqual(['hec']);
    expect(() => splunkHec.parseConfig({})).toThrow(/url/);
  });
});
