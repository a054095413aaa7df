/**
 * Which OCSF 1.3.0 class and activity an action becomes. A default table keyed by action pattern,
 * which an operator can override with `TRAILPROOF_OCSF_MAPPING` (inline JSON) or
 * `TRAILPROOF_OCSF_MAPPING_FILE` (a JSON file): `{ "<pattern>": { "class_uid": N, "activity_id": M } }`.
 * Both are validated at start (CONFIG_INVALID). See docs/exports.md, "OCSF".
 *
 * A pattern is an exact action (`user.login`), a prefix (`document.*`: the action `document` and
 * everything below it) or a last-segment suffix (`*.created`). Lookup: the override table first,
 * then the defaults; within a table an exact match, then a suffix (in the order written), then the
 * longest prefix: the verb says more about the activity than the domain does, so `*.read` classifies
 * `document.read` and `document.*` only catches the document verbs nothing else names. Anything unmatched is API Activity (6003) "Other" (99): every Trailproof event is an
 * application's API call, and 6003 is the OCSF class that claims nothing more than that.
 */
import { readFileSync } from 'node:fs';
import { TrailproofError } from '../errors.ts';

export interface OcsfClassification {
  class_uid: number;
  activity_id: number;
}

/**
 * The classes this exporter writes and the activity_id values each allows in OCSF 1.3.0: the class's
 * own enum (events/iam/*.json, events/application/api_activity.json) plus the base event's generic
 * 0 Unknown and 99 Other. Captions are the enum captions, written as `activity_name`.
 */
export const OCSF_CLASSES: Readonly<Record<number, { name: string; activities: Readonly<Record<number, string>> }>> = {
  // Account Change: 1.0 enum 1–9, 1.1.0 added 10 and 11 (#724); 12 Unlock came in 1.4.0, so not here.
  3001: {
    name: 'Account Change',
    activities: {
      0: 'Unknown',
      1: 'Create',
      2: 'Enable',
      3: 'Password Change',
      4: 'Password Reset',
      5: 'Disable',
      6: 'Delete',
      7: 'Attach Policy',
      8: 'Detach Policy',
      9: 'Lock',
      10: 'MFA Factor Enable',
      11: 'MFA Factor Disable',
      99: 'Other',
    },
  },
  // Authentication: 6 Preauth came in 1.2.0 (#1018); 7 Account Switch in 1.6.0, so not here.
  3002: {
    name: 'Authentication',
    activities: {
      0: 'Unknown',
      1: 'Logon',
      2: 'Logoff',
      3: 'Authentication Ticket',
      4: 'Service Ticket Request',
      5: 'Service Ticket Renew',
      6: 'Preauth',
      99: 'Other',
    },
  },
  // Entity Management: 1.3.0 added Move … Resume (#1095).
  3004: {
    name: 'Entity Management',
    activities: {
      0: 'Unknown',
      1: 'Create',
      2: 'Read',
      3: 'Update',
      4: 'Delete',
      5: 'Move',
      6: 'Enroll',
      7: 'Unenroll',
      8: 'Enable',
      9: 'Disable',
      10: 'Activate',
      11: 'Deactivate',
      12: 'Suspend',
      13: 'Resume',
      99: 'Other',
    },
  },
  6003: { name: 'API Activity', activities: { 0: 'Unknown', 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete', 99: 'Other' } },
};

export type OcsfMapping = ReadonlyMap<string, OcsfClassification>;

const c = (class_uid: number, activity_id: number): OcsfClassification => ({ class_uid, activity_id });

/** The default table (docs/exports.md prints it). Outcome decides status_id, never the class. */
export const DEFAULT_OCSF_MAPPING: OcsfMapping = new Map([
  // Authentication 3002: a failed logon is still a Logon, with status_id 2 Failure.
  ['user.login', c(3002, 1)],
  ['user.login_failed', c(3002, 1)],
  ['user.logout', c(3002, 2)],
  ['session.created', c(3002, 1)],
  ['session.ended', c(3002, 2)],
  ['session.revoked', c(3002, 2)],
  // Account Change 3001: the subject is a user or member account.
  ['user.created', c(3001, 1)],
  ['user.invited', c(3001, 1)],
  ['member.added', c(3001, 1)],
  ['member.invited', c(3001, 1)],
  ['user.enabled', c(3001, 2)],
  ['user.password_changed', c(3001, 3)],
  ['user.password_reset', c(3001, 4)],
  ['user.disabled', c(3001, 5)],
  ['user.suspended', c(3001, 5)],
  ['user.deleted', c(3001, 6)],
  ['member.removed', c(3001, 6)],
  // A role is a named set of permissions: granting one is OCSF's "An IAM Policy was attached".
  ['member.role_changed', c(3001, 7)],
  ['member.role_granted', c(3001, 7)],
  ['member.role_revoked', c(3001, 8)],
  ['user.locked', c(3001, 9)],
  ['user.mfa_enabled', c(3001, 10)],
  ['user.mfa_disabled', c(3001, 11)],
  ['user.*', c(3001, 99)],
  ['member.*', c(3001, 99)],
  // An API key is a managed credential, not an account: its lifecycle is Entity Management. The
  // service records these (src/event/service-records.ts).
  ['api_key.created', c(3004, 1)],
  ['api_key.revoked', c(3004, 4)],
  ['api_key.*', c(3004, 3)],
  // Everything else by its verb: the CRUD of a managed entity (document.read, invoice.created, …).
  ['*.created', c(3004, 1)],
  ['*.added', c(3004, 1)],
  ['*.uploaded', c(3004, 1)],
  ['*.read', c(3004, 2)],
  ['*.viewed', c(3004, 2)],
  ['*.exported', c(3004, 2)],
  ['*.downloaded', c(3004, 2)],
  ['*.listed', c(3004, 2)],
  ['*.searched', c(3004, 2)],
  ['*.updated', c(3004, 3)],
  ['*.changed', c(3004, 3)],
  ['*.renamed', c(3004, 3)],
  ['*.shared', c(3004, 3)],
  ['*.deleted', c(3004, 4)],
  ['*.removed', c(3004, 4)],
  ['*.purged', c(3004, 4)],
  ['*.moved', c(3004, 5)],
  ['*.enabled', c(3004, 8)],
  ['*.disabled', c(3004, 9)],
  ['*.suspended', c(3004, 12)],
  ['*.resumed', c(3004, 13)],
  ['document.*', c(3004, 99)],
]);

/** Unmatched actions. */
export const FALLBACK_OCSF_CLASSIFICATION: OcsfClassification = c(6003, 99);

/** The class and activity of an action: overrides first, then the defaults, then the fallback. */
export function classifyAction(action: string, overrides: OcsfMapping = new Map()): OcsfClassification {
  return lookup(overrides, action) ?? lookup(DEFAULT_OCSF_MAPPING, action) ?? FALLBACK_OCSF_CLASSIFICATION;
}

/**
 * The override table from the environment: `TRAILPROOF_OCSF_MAPPING` (JSON text) or
 * `TRAILPROOF_OCSF_MAPPING_FILE` (path to a JSON file), not both. Empty when neither is set.
 */
export function loadOcsfMapping(env: NodeJS.ProcessEnv = process.env): OcsfMapping {
  const inline = nonEmpty(env.TRAILPROOF_OCSF_MAPPING);
  const file = nonEmpty(env.TRAILPROOF_OCSF_MAPPING_FILE);
  if (inline !== undefined && file !== undefined) throw invalid('set only one of TRAILPROOF_OCSF_MAPPING and TRAILPROOF_OCSF_MAPPING_FILE');
  if (inline !== undefined) return parseOcsfMapping(inline, 'TRAILPROOF_OCSF_MAPPING');
  if (file === undefined) return new Map();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw invalid(`TRAILPROOF_OCSF_MAPPING_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, err);
  }
  return parseOcsfMapping(text, `TRAILPROOF_OCSF_MAPPING_FILE (${file})`);
}

/** Parses and checks an override table; every mistake is a CONFIG_INVALID naming `source` and the key. */
export function parseOcsfMapping(text: string, source: string): OcsfMapping {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalid(`${source} is not valid JSON: ${(err as Error).message}`, err);
  }
  if (!isPlainObject(value)) throw invalid(`${source} must be a JSON object of "<action pattern>": { "class_uid": N, "activity_id": M }`);
  const mapping = new Map<string, OcsfClassification>();
  for (const [pattern, entry] of Object.entries(value)) {
    const where = `${source}: ${JSON.stringify(pattern)}`;
    if (!PATTERN.test(pattern))
      throw invalid(`${where} is not an action pattern (an action like user.login, a prefix like document.*, or a suffix like *.created)`);
    if (!isPlainObject(entry)) throw invalid(`${where} must map to { "class_uid": N, "activity_id": M }`);
    const unknownKeys = Object.keys(entry).filter((k) => k !== 'class_uid' && k !== 'activity_id');
    if (unknownKeys.length)
      throw invalid(`${where} has unknown key(s) ${unknownKeys.map((k) => JSON.stringify(k)).join(', ')}; only class_uid and activity_id are allowed`);
    const { class_uid: classUid, activity_id: activityId } = entry;
    const cls = typeof classUid === 'number' ? OCSF_CLASSES[classUid] : undefined;
    if (cls === undefined) throw invalid(`${where}: class_uid must be one of ${Object.keys(OCSF_CLASSES).join(', ')} (got ${JSON.stringify(classUid)})`);
    if (typeof activityId !== 'number' || cls.activities[activityId] === undefined) {
      const allowed = Object.entries(cls.activities)
        .map(([id, name]) => `${id} ${name}`)
        .join(', ');
      throw invalid(`${where}: activity_id for class ${classUid} (${cls.name}) must be one of ${allowed} (got ${JSON.stringify(activityId)})`);
    }
    mapping.set(pattern, c(classUid as number, activityId));
  }
  return mapping;
}

// Action segments as the event model allows them (src/event/limits.ts), with one `*` at either end.
const SEGMENT = '[a-z0-9_]+';
const PATTERN = new RegExp(`^(?:${SEGMENT}(?:\\.${SEGMENT})*(?:\\.\\*)?|\\*(?:\\.${SEGMENT})+)$`);

function lookup(table: OcsfMapping, action: string): OcsfClassification | undefined {
  const exact = table.get(action);
  if (exact) return exact;
  for (const [pattern, value] of table) {
    if (pattern.startsWith('*.') && action.endsWith(pattern.slice(1))) return value;
  }
  // Longest prefix: `a.b.*` before `a.*`; `a.*` also covers the bare action `a`.
  const segments = action.split('.');
  for (let n = segments.length; n >= 1; n--) {
    const hit = table.get(`${segments.slice(0, n).join('.')}.*`);
    if (hit) return hit;
  }
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function invalid(message: string, cause?: unknown): TrailproofError {
  return new TrailproofError('CONFIG_INVALID', message, { cause });
}
