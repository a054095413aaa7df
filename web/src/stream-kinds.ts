/**
 * The stream destination kinds as the console's create form shows them (docs/streams.md,
 * "Destinations"): formats (first = the API's default), the secret and the `config` settings of
 * each. The server validates every value; test/api/streams.test.ts checks this table against the
 * server's kinds, so a kind, format or setting added there cannot be forgotten here.
 */
export type ConfigFieldType = 'text' | 'url' | 'port' | 'flag' | 'pem';

export interface ConfigField {
  /** The key in `config`. */
  name: string;
  label: string;
  type: ConfigFieldType;
  required?: boolean;
  placeholder?: string;
}

export interface StreamKind {
  kind: string;
  label: string;
  formats: readonly string[];
  /** What the write-only secret is, when the kind takes one (every kind that takes one requires it). */
  secret?: string;
  config: readonly ConfigField[];
}

const ca: ConfigField = { name: 'ca', label: 'CA certificates (PEM, optional)', type: 'pem', placeholder: '-----BEGIN CERTIFICATE-----' };

export const STREAM_KINDS: readonly StreamKind[] = [
  {
    kind: 'webhook',
    label: 'Webhook (HTTPS)',
    formats: ['jsonl', 'csv', 'cef', 'syslog', 'ecs', 'hec', 'ocsf'],
    secret: 'Signing secret',
    config: [{ name: 'url', label: 'URL', type: 'url', required: true, placeholder: 'https://siem.example.com/trailproof' }, ca],
  },
  {
    kind: 'splunk_hec',
    label: 'Splunk HEC',
    formats: ['hec'],
    secret: 'HEC token',
    config: [
      { name: 'url', label: 'Collector URL', type: 'url', required: true, placeholder: 'https://splunk.example.com:8088' },
      { name: 'index', label: 'Index', type: 'text' },
      { name: 'source', label: 'Source', type: 'text' },
      { name: 'sourcetype', label: 'Sourcetype', type: 'text' },
      { name: 'host', label: 'Host', type: 'text' },
      ca,
    ],
  },
  {
    kind: 'syslog',
    label: 'Syslog (TCP / TLS)',
    formats: ['syslog', 'cef'],
    config: [
      { name: 'host', label: 'Host', type: 'text', required: true, placeholder: 'syslog.example.com' },
      { name: 'port', label: 'Port', type: 'port', required: true, placeholder: '6514' },
      { name: 'tls', label: 'TLS (RFC 5425)', type: 'flag' },
      { name: 'servername', label: 'TLS server name', type: 'text' },
      { name: 'hostname', label: 'HOSTNAME field', type: 'text' },
      ca,
    ],
  },
  {
    kind: 's3',
    label: 'S3-compatible bucket',
    formats: ['jsonl', 'ecs', 'ocsf', 'hec'],
    secret: 'Secret access key',
    config: [
      { name: 'bucket', label: 'Bucket', type: 'text', required: true },
      { name: 'access_key_id', label: 'Access key id', type: 'text', required: true },
      { name: 'region', label: 'Region', type: 'text', placeholder: 'us-east-1' },
      { name: 'endpoint', label: 'Endpoint', type: 'url', placeholder: 'https://minio.example.com' },
      { name: 'force_path_style', label: 'Path-style addressing', type: 'flag' },
      { name: 'prefix', label: 'Key prefix', type: 'text' },
    ],
  },
  {
    kind: 'datadog',
    label: 'Datadog logs',
    formats: ['jsonl', 'cef', 'syslog', 'ecs', 'hec', 'ocsf'],
    secret: 'API key',
    config: [
      { name: 'url', label: 'Intake URL', type: 'url', placeholder: 'https://http-intake.logs.datadoghq.com/api/v2/logs' },
      { name: 'service', label: 'Service', type: 'text', placeholder: 'trailproof' },
      { name: 'ddsource', label: 'Source', type: 'text', placeholder: 'trailproof' },
      { name: 'ddtags', label: 'Tags', type: 'text' },
      { name: 'hostname', label: 'Hostname', type: 'text' },
      ca,
    ],
  },
];

/** The `config` object of a create request from the form's values (empty settings left out). */
export function configFrom(kind: StreamKind, value: (name: string) => string | boolean): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const field of kind.config) {
    const v = value(field.name);
    if (field.type === 'flag') {
      if (v === true) config[field.name] = true;
    } else if (typeof v === 'string' && v.trim() !== '') {
      // A port the server checks as a number: sent as one when it looks like one, else as typed (and refused with its pointer).
      config[field.name] = field.type === 'port' && /^\d+$/.test(v.trim()) ? Number(v.trim()) : field.type === 'pem' ? v : v.trim();
    }
  }
  return config;
}
