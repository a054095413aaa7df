/** Every destination kind by name: what `kind` accepts in POST /v1/streams. */
import { datadog } from './datadog.ts';
import type { DestinationKind } from './destination.ts';
import { s3 } from './s3.ts';
import { splunkHec } from './splunk-hec.ts';
import { syslogTcp } from './syslog.ts';
import { webhook } from './webhook.ts';

/** A kind whose config types are erased: each kind checks its own config. */
// biome-ignore lint/suspicious/noExplicitAny: the registry holds kinds whose configs differ
type AnyKind = DestinationKind<any, any>;

export const DESTINATION_KINDS: ReadonlyMap<string, AnyKind> = new Map([webhook, splunkHec, syslogTcp, s3, datadog].map((k) => [k.kind, k as AnyKind]));
