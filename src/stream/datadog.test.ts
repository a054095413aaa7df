/** Datadog logs intake destination against a real local HTTP server: the contract, the API key header, the entries. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../event/types.ts';
import { EVENT_FORMATS } from '../export/formats.ts';
import { datadog, DATADOG_US1_URL } from './datadog.ts';
import { testDestination } from './destination-contract.ts';
import { startHttpReceiver, type HttpReceiver } from './testing/http-receiver.ts';
import { sampleEvents } from './testing/sample-events.ts';

const API_KEY = 'dd0123456789abcdef0123456789abcd';
const jsonl = EVENT_FORMATS.get('jsonl')!;

function create(config: Record<string, unknown>) {
  return datadog.create({ id: 'st_dd', tenant: 'acme', name: 'dd', config: datadog.parseConfig(config), secret: API_KEY, format: jsonl });
}

testDestination(
  'datadog',
  async () => {
    const receiver = await startHttpReceiver();
    receiver.okStatus = 202;
    return {
      format: 'jsonl',
      destination: () => create({ url: `${receiver.url}/api/v2/logs` }),
      destinationAt: (host, port) => create({ url: `http://${host}:${port}/api/v2/logs` }),
      receivedUids: async () =>
        receiver.accepted.flatMap((r) => (JSON.parse(r.body.toString()) as { message: string }[]).map((l) => (JSON.parse(l.message) as StoredEvent).uid)),
      close: () => receiver.close(),
    };
  },
  { acknowledges: true },
);

describe('datadog', () => {
  let receiver: HttpReceiver;
  beforeAll(async () => {
    receiver = await startHttpReceiver();
    receiver.okStatus = 202;
  });
  afterAll(() => receiver.close());

  it('POSTs a JSON array of log entries with DD-API-KEY, the record as message', async () => {
    const destination = create({ url: `${receiver.url}/api/v2/logs`, service: 'audit', ddtags: 'env:test' });
    const events = sampleEvents(0, 4);
    await destination.deliver({ records: events.map((e) => jsonl.record(e)) }, AbortSignal.timeout(5000));
    await destination.close();
    const req = receiver.accepted.at(-1)!;
    expect(req.headers['dd-api-key']).toBe(API_KEY);
    const entries = JSON.parse(req.body.toString()) as { ddsource: string; service: string; ddtags: string; message: string }[];
    expect(entries.map((e) => JSON.parse(e.message))).toEqual(events);
    expect(entries[0]).toMatchObject({ ddsource: 'trailproof', service: 'audit', ddtags: 'tenant:acme,env:test' });
  });

  it('defaults to the US1 intake', () => {
    expect(datadog.parseConfig({}).url).toBe(DATADOG_US1_URL);
  });
});
