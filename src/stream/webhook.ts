/**
 * HTTPS webhook: each batch is one POST with a JSON body, signed so the receiver can tell it came
 * from this Trailproof and was not replayed later:
 *
 *   Trailproof-Timestamp: <unix seconds>
 *   Trailproof-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>
 *
 * (the scheme of Stripe's and Svix's webhooks: the timestamp is signed with the body, so a
 * receiver rejecting old timestamps also rejects replays). Body: `{"tenant", "destination",
 * "format", "events": [...]}` for JSON formats (jsonl, ecs, ocsf, hec: the records themselves),
 * `"records": ["…", …]` (strings) for the others. docs/streams.md shows verification.
 */
import { createHmac } from 'node:crypto';
import { caField, JSON_FORMATS, onlyFields, urlField, type DestinationKind, type RecordBatch } from './destination.ts';
import { EVENT_FORMATS } from '../export/formats.ts';
import { httpSender } from './http-post.ts';

export const SIGNATURE_HEADER = 'trailproof-signature';
export const TIMESTAMP_HEADER = 'trailproof-timestamp';

export interface WebhookConfig {
  url: string;
  ca?: string;
}

export const webhook: DestinationKind<WebhookConfig, RecordBatch> = {
  kind: 'webhook',
  formats: ['jsonl', ...[...EVENT_FORMATS.keys()].filter((f) => f !== 'jsonl')],
  secret: { required: true, description: 'the HMAC-SHA256 signing secret' },
  parseConfig(config) {
    onlyFields(config, ['url', 'ca']);
    const ca = caField(config);
    return { url: urlField(config, 'url'), ...(ca ? { ca } : {}) };
  },
  create({ id, tenant, config, secret, format }) {
    const sender = httpSender({ ca: config.ca });
    const json = (JSON_FORMATS as readonly string[]).includes(format.name);
    const head = `{"tenant":${JSON.stringify(tenant)},"destination":${JSON.stringify(id)},"format":${JSON.stringify(format.name)},`;
    return {
      async deliver({ records }, signal) {
        // The records of a JSON format are JSON objects already: joined, not parsed and re-serialized.
        const body = json ? `${head}"events":[${records.map((r) => r.trimEnd()).join(',')}]}` : `${head}"records":${JSON.stringify(records)}}`;
        const timestamp = String(Math.floor(Date.now() / 1000));
        await sender.post(
          config.url,
          {
            'content-type': 'application/json',
            'user-agent': 'trailproof-stream/1',
            [TIMESTAMP_HEADER]: timestamp,
            [SIGNATURE_HEADER]: `v1=${webhookSignature(secret!, timestamp, body)}`,
          },
          body,
          signal,
        );
      },
      async close() {
        sender.close();
      },
    };
  },
};

/** hex HMAC-SHA256(secret, `${timestamp}.${body}`): what `Trailproof-Signature: v1=` carries. */
export function webhookSignature(secret: string, timestamp: string, body: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}
