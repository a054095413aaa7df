/**
 * Splunk HTTP Event Collector: `POST <url>/services/collector/event` with `Authorization: Splunk
 * <token>` and the batch's HEC envelopes concatenated (HEC accepts several JSON objects in one
 * body). Splunk answers 200 `{"text":"Success","code":0}` once it accepted the batch; with indexer
 * acknowledgement off (the default) that is its only acknowledgement.
 */
import { hecEnvelope, type HecOptions } from '../export/hec.ts';
import { caField, onlyFields, stringField, urlField, type DestinationKind } from './destination.ts';
import { httpSender } from './http-post.ts';

export interface SplunkHecConfig extends HecOptions {
  /** Base URL of the collector (`https://splunk.example:8088`). */
  url: string;
  ca?: string;
}

export const splunkHec: DestinationKind<SplunkHecConfig> = {
  kind: 'splunk_hec',
  formats: ['hec'],
  secret: { required: true, description: 'the HEC token' },
  parseConfig(config) {
    onlyFields(config, ['url', 'ca', 'index', 'source', 'sourcetype', 'host']);
    const parsed: SplunkHecConfig = { url: urlField(config, 'url') };
    const ca = caField(config);
    if (ca) parsed.ca = ca;
    for (const field of ['index', 'source', 'sourcetype', 'host'] as const) {
      const value = stringField(config, field, { max: 256 });
      if (value !== undefined) parsed[field] = value;
    }
    return parsed;
  },
  create({ config, secret }) {
    const sender = httpSender({ ca: config.ca });
    const endpoint = new URL('services/collector/event', config.url.endsWith('/') ? config.url : `${config.url}/`).toString();
    return {
      async deliver({ events }, signal) {
        // The envelopes carry the destination's index/source/sourcetype/host, so they are built here
        // rather than taken from the `hec` export format's defaults.
        const body = events.map((e) => JSON.stringify(hecEnvelope(e, config))).join('\n');
        await sender.post(endpoint, { 'content-type': 'application/json', authorization: `Splunk ${secret!}` }, body, signal);
      },
      async close() {
        sender.close();
      },
    };
  },
};
