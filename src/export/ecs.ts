/**
 * Elastic Common Schema (ECS 8.x) documents, one per line (for Filebeat / Elastic Agent or the bulk
 * API). `event.*` categorisation from the action name; everything Trailproof-specific under
 * `trailproof.*`, the custom namespace ECS leaves to the producer.
 */
import type { StoredEvent } from '../event/types.ts';
import type { EventFormat } from './format.ts';
import { jsonLine } from './line-breaks.ts';
import { eventSummary } from './summary.ts';

export const ECS_VERSION = '8.11.0';

export const ecs: EventFormat = {
  name: 'ecs',
  mediaType: 'application/x-ndjson',
  extension: 'ecs.jsonl',
  record: (e) => `${jsonLine(ecsDocument(e))}\n`,
};

/** ECS event.category / event.type for an action, by its first segment. */
function categorise(action: string): { category: string[]; type: string[] } {
  const [domain = '', verb = ''] = action.split('.');
  if (domain === 'user' && /login|logout|mfa|session|password/.test(verb))
    return { category: ['authentication'], type: [/logout/.test(verb) ? 'end' : 'start'] };
  if (['member', 'role', 'group', 'user'].includes(domain))
    return { category: ['iam'], type: [/creat|invit|add/.test(verb) ? 'creation' : /delet|remov/.test(verb) ? 'deletion' : 'change'] };
  if (domain === 'api_key') return { category: ['iam'], type: [/creat/.test(verb) ? 'creation' : /revok|delet/.test(verb) ? 'deletion' : 'access'] };
  return {
    category: ['configuration'],
    type: [/creat/.test(verb) ? 'creation' : /delet/.test(verb) ? 'deletion' : /read|view|export|download/.test(verb) ? 'access' : 'change'],
  };
}

export function ecsDocument(e: StoredEvent): Record<string, unknown> {
  const { category, type } = categorise(e.action);
  return {
    '@timestamp': e.occurred_at,
    ecs: { version: ECS_VERSION },
    message: eventSummary(e),
    event: {
      kind: 'event',
      category,
      type,
      action: e.action,
      outcome: e.outcome,
      id: e.uid,
      created: e.received_at,
      ...(e.reason ? { reason: e.reason } : {}),
      // ECS: the software that generated the event; set on the service's own records only.
      ...(e.source ? { provider: e.source } : {}),
    },
    user: { id: e.actor.id, ...(e.actor.name ? { name: e.actor.name } : {}) },
    ...(e.context.ip ? { source: { ip: e.context.ip } } : {}),
    ...(e.context.user_agent ? { user_agent: { original: e.context.user_agent } } : {}),
    trailproof: {
      tenant: e.tenant,
      seq: e.seq,
      actor_type: e.actor.type,
      targets: e.targets,
      ...(e.id ? { id: e.id } : {}),
      ...(e.context.location ? { location: e.context.location } : {}),
      ...(e.context.request_id ? { request_id: e.context.request_id } : {}),
      ...(e.changes ? { changes: e.changes } : {}),
      ...(e.metadata ? { metadata: e.metadata } : {}),
    },
  };
}
