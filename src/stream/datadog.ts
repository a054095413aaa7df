/**
 * Datadog logs intake (HTTP API v2): `POST <url>` (default the US1 site,
 * `https://http-intake.logs.datadoghq.com/api/v2/logs`) with `DD-API-KEY` and a JSON array of log
 * entries, one per event; `message` is the record in the destination's format (Datadog parses a
 * JSON message into attributes). Datadog answers 202 once it accepted the batch. Its limits
 * (1,000 entries, 5 MB per request) are above the worker's batch size.
 */
import { caField, onlyFields, stringField, urlField, type DestinationKind, type RecordBatch } from './destination.ts';
import { EVENT_FORMATS } from '../export/formats.ts';
import { httpSender } from './http-post.ts';

export const DATADOG_US1_URL = 'https://http-intake.logs.datadoghq.com/api/v2/logs';

export interface DatadogConfig {
  url: string;
  service: string;
  ddsource: string;
  ddtags?: string;
  hostname?: string;
  ca?: string;
}

export const datadog: DestinationKind<DatadogConfig, RecordBatch> = {
  kind: 'datadog',
  formats: ['jsonl', ...[...EVENT_FORMATS.keys()].filter((f) => f !== 'jsonl' && f !== 'csv')],
  secret: { required: true, description: 'the Datadog API key' },
  parseConfig(config) {
    onlyFields(config, ['url', 'service', 'ddsource', 'ddtags', 'hostname', 'ca']);
    const parsed: DatadogConfig = {
      url: urlField(config, 'url', DATADOG_US1_URL),
      service: stringField(config, 'service', { max: 100 }) ?? 'trailproof',
      ddsource: stringField(config, 'ddsource', { max: 100 }) ?? 'trailproof',
    };
    const ddtags = stringField(config, 'ddtags', { max: 1024 });
    const hostname = stringField(config, 'hostname', { max: 255 });
    const ca = caField(config);
    if (ddtags) parsed.ddtags = ddtags;
    if (hostname) parsed.hostname = hostname;
    if (ca) parsed.ca = ca;
    return parsed;
  },
  create({ tenant, config, secret }) {
    const sender = httpSender({ ca: config.ca });
    const tags = [`tenant:${tenant}`, ...(config.ddtags ? [config.ddtags] : [])].join(',');
    return {
      async deliver({ records }, signal) {
        const body = JSON.stringify(
          records.map((message) => ({
            ddsource: config.ddsource,
            service: config.service,
            ddtags: tags,
            ...(config.hostname ? { hostname: config.hostname } : {}),
            message: message.trimEnd(),
          })),
        );
        await sender.post(config.url, { 'content-type': 'application/json', 'dd-api-key': secret! }, body, signal);
      },
      async close() {
        sender.close();
      },
    };
  },
};
