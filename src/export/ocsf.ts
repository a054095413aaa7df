/**
 * Open Cybersecurity Schema Framework (OCSF) 1.3.0 events, one JSON object per line (what Amazon
 * Security Lake custom sources, Splunk's OCSF add-on and most OCSF pipelines take). The class and
 * activity come from the action (ocsf-mapping.ts); the shapes follow ocsf/ocsf-schema v1.3.0
 * (test/fixtures/ocsf/README.md names the files). Trailproof facts with no OCSF attribute travel in
 * `unmapped`, the place the base event reserves for them. See docs/exports.md, "OCSF".
 */
import type { Actor, StoredEvent, Target } from '../event/types.ts';
import type { EventFormat } from './format.ts';
import { jsonLine } from './line-breaks.ts';
import { classifyAction, loadOcsfMapping, OCSF_CLASSES, type OcsfMapping } from './ocsf-mapping.ts';
import { epochMillis, eventSummary, PRODUCT } from './summary.ts';

export const OCSF_VERSION = '1.3.0';

/** The format with an explicit override table; the registered `ocsf` reads the environment's. */
export function ocsfFormat(overrides?: OcsfMapping): EventFormat {
  let mapping = overrides;
  return {
    name: 'ocsf',
    mediaType: 'application/x-ndjson',
    extension: 'ocsf.jsonl',
    // The environment was validated by loadConfig at start; read it once, on first use.
    record: (e) => `${jsonLine(ocsfEvent(e, (mapping ??= loadOcsfMapping())))}\n`,
  };
}

export const ocsf: EventFormat = ocsfFormat();

/** Base event dictionary (1.3.0): severity_id 1 Informational, 3 Medium; status_id 1 Success, 2 Failure. */
const SEVERITY = { success: [1, 'Informational'], failure: [3, 'Medium'] } as const;
const STATUS = { success: [1, 'Success'], failure: [2, 'Failure'] } as const;
const CATEGORY_NAME: Record<number, string> = { 3: 'Identity & Access Management', 6: 'Application Activity' };

export function ocsfEvent(e: StoredEvent, overrides: OcsfMapping = new Map()): Record<string, unknown> {
  const { class_uid: classUid, activity_id: activityId } = classifyAction(e.action, overrides);
  const cls = OCSF_CLASSES[classUid]!;
  // For 99 Other the producer names the activity (base event `activity_name`): the action is that name.
  const activityName = activityId === 99 ? e.action : cls.activities[activityId]!;
  const categoryUid = Math.floor(classUid / 1000);
  const [severityId, severity] = SEVERITY[e.outcome];
  const [statusId, status] = STATUS[e.outcome];
  const actorUser = ocsfUser(e.actor);
  const srcEndpoint = e.context.ip ? { ip: e.context.ip } : undefined;
  const httpRequest = e.context.user_agent ? { user_agent: e.context.user_agent } : undefined;
  return {
    activity_id: activityId,
    activity_name: activityName,
    category_uid: categoryUid,
    category_name: CATEGORY_NAME[categoryUid],
    class_uid: classUid,
    class_name: cls.name,
    type_uid: classUid * 100 + activityId,
    type_name: `${cls.name}: ${activityName}`,
    severity_id: severityId,
    severity,
    status_id: statusId,
    status,
    ...(e.reason ? { status_detail: e.reason } : {}),
    time: epochMillis(e.occurred_at),
    message: eventSummary(e),
    metadata: {
      version: OCSF_VERSION,
      product: { name: PRODUCT.product, vendor_name: PRODUCT.vendor, version: PRODUCT.version },
      uid: e.uid,
      // metadata.event_code: "the Event ID or Code that the product uses to describe the event".
      event_code: e.action,
      tenant_uid: e.tenant,
      original_time: e.occurred_at,
      logged_time: epochMillis(e.received_at),
      sequence: e.seq,
      ...(e.context.request_id ? { correlation_uid: e.context.request_id } : {}),
    },
    actor: { user: actorUser },
    ...classAttributes(classUid, e, actorUser, srcEndpoint),
    ...(srcEndpoint && classUid !== 6003 ? { src_endpoint: srcEndpoint } : {}),
    ...(httpRequest ? { http_request: httpRequest } : {}),
    ...observables(e),
    unmapped: unmapped(e),
  };
}

/** The attributes each class adds, with its required ones always present. */
function classAttributes(
  classUid: number,
  e: StoredEvent,
  actorUser: Record<string, unknown>,
  srcEndpoint: { ip: string } | undefined,
): Record<string, unknown> {
  switch (classUid) {
    case 3002:
      // `user` (required) is the subject authenticating: in an application's trail, the actor.
      // The class requires at least one of `service` and `dst_endpoint`: the tenant's application.
      return { user: actorUser, service: { name: e.tenant } };
    case 3001: {
      // `user` (required) is the account changed: the first user-like target, else the actor.
      const subject = e.targets.find((t) => ['user', 'member', 'account'].includes(t.type));
      return { user: subject ? ocsfUser({ type: 'user', id: subject.id, ...(subject.name ? { name: subject.name } : {}) }) : actorUser };
    }
    case 3004: {
      const target = e.targets[0];
      const entity = target ? managedEntity(target) : { name: e.action.split('.')[0]!, type: e.action.split('.')[0]! };
      const after = e.changes?.filter((ch) => 'after' in ch);
      const before = e.changes?.filter((ch) => 'before' in ch);
      return {
        entity: before?.length ? { ...entity, data: Object.fromEntries(before.map((ch) => [ch.field, ch.before])) } : entity,
        ...(after?.length ? { entity_result: { ...entity, data: Object.fromEntries(after.map((ch) => [ch.field, ch.after])) } } : {}),
      };
    }
    default:
      return {
        api: { operation: e.action, service: { name: e.tenant } },
        // src_endpoint is required in API Activity; an event without an IP says so rather than omit it.
        src_endpoint: srcEndpoint ?? { name: 'unknown' },
        ...(e.targets.length ? { resources: e.targets.map((t) => ({ uid: t.id, type: t.type, ...(t.name ? { name: t.name } : {}) })) } : {}),
      };
  }
}

/**
 * User object (1.3.0): type_id 1 User, 3 System, 0 Unknown, 99 Other (`type` names it). 4 Service
 * only arrived in 1.6.0, so a service account is Other/"Service" here.
 */
const USER_TYPE: Record<Actor['type'], [number, string]> = {
  user: [1, 'User'],
  system: [3, 'System'],
  service: [99, 'Service'],
  api_key: [99, 'API Key'],
  anonymous: [0, 'Unknown'],
};

function ocsfUser(actor: Pick<Actor, 'type' | 'id' | 'name'>): Record<string, unknown> {
  const [typeId, type] = USER_TYPE[actor.type];
  return { uid: actor.id, ...(actor.name ? { name: actor.name } : {}), type_id: typeId, type };
}

function managedEntity(t: Target): Record<string, unknown> {
  return { uid: t.id, type: t.type, ...(t.name ? { name: t.name } : {}) };
}

/** Observable type_id 2 IP Address, 4 User Name (objects/observable.json); omitted when there are none. */
function observables(e: StoredEvent): { observables?: Record<string, unknown>[] } {
  const list = [
    ...(e.context.ip ? [{ name: 'src_endpoint.ip', type_id: 2, type: 'IP Address', value: e.context.ip }] : []),
    ...(e.actor.name ? [{ name: 'actor.user.name', type_id: 4, type: 'User Name', value: e.actor.name }] : []),
  ];
  return list.length ? { observables: list } : {};
}

/** What OCSF has no attribute for: kept whole, so nothing is lost in the translation. */
function unmapped(e: StoredEvent): Record<string, unknown> {
  return {
    actor_type: e.actor.type,
    targets: e.targets,
    ...(e.context.location ? { location: e.context.location } : {}),
    ...(e.context.request_id ? { request_id: e.context.request_id } : {}),
    ...(e.context.session_id ? { session_id: e.context.session_id } : {}),
    ...(e.changes?.length ? { changes: e.changes } : {}),
    ...(e.metadata && Object.keys(e.metadata).length ? { metadata: e.metadata } : {}),
    ...(e.id ? { id: e.id } : {}),
    ...(e.source ? { source: e.source } : {}),
  };
}
