/**
 * Redaction rules (docs/redaction.md): what is taken out of an event before the ledger commits to
 * it. A rule names its fields by `path` (dotted, `*` for any one key or array element:
 * `metadata.user.email`, `targets.*.name`) or by `key` (a case-insensitive glob over member names
 * in the event's free-form parts: `*token*`), or detects values (`detect: "card_number"`), and
 * either removes the value or replaces it by its keyed hash.
 */
import { type DetailCode, type ErrorDetail, TrailproofError } from '../errors.ts';

export type RedactionAction = 'remove' | 'hash';

export type RedactionRule =
  | { path: string; action: RedactionAction }
  | { key: string; action: RedactionAction }
  | { detect: 'card_number'; action: RedactionAction };

export interface RedactionSettings {
  /** Whether the built-in rules (DEFAULT_RULES) apply after the tenant's own. */
  defaults: boolean;
  rules: RedactionRule[];
}

/**
 * What must never be logged: credentials are removed; session ids are hashed, so that the events of
 * one session still match each other and a search by the id.
 */
export const DEFAULT_RULES: readonly RedactionRule[] = Object.freeze([
  ...['*password*', '*passwd*', '*passphrase*', '*secret*', '*token*', '*api_key*', '*apikey*', '*api-key*', '*private_key*', '*credential*'].map((key) => ({
    key,
    action: 'remove' as const,
  })),
  ...['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key'].map((key) => ({ key, action: 'remove' as const })),
  ...['*session_id*', '*sessionid*', '*session-id*'].map((key) => ({ key, action: 'hash' as const })),
  { detect: 'card_number', action: 'remove' },
]);

export const MAX_RULES = 100;
const MAX_PATTERN = 128;

/** Fields no rule may touch: what the event is (its action, time, outcome, types, client id). */
const STRUCTURAL = new Set(['action', 'occurred_at', 'outcome', 'id', 'source', 'actor.type', 'targets.*.type']);
/** Fields the event model requires: they can only be hashed, never removed. */
export const REQUIRED_PATHS = new Set(['actor.id', 'targets.*.id']);
/** Fields that must keep their form (an address is stored as one): they can only be removed. */
export const REMOVE_ONLY_PATHS = new Set(['context.ip']);
const PATH = /^(?:[A-Za-z0-9_$@-]+|\*)$/;

/** Validates a `PUT /v1/tenants/{tenant}/redaction` body; errors point at the offending member. */
export function parseSettings(body: unknown): RedactionSettings {
  const errors: ErrorDetail[] = [];
  const fail = (pointer: string, code: DetailCode, message: string) => errors.push({ pointer, code, message });
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new TrailproofError('REQUEST_INVALID', 'the body must be an object {defaults?, rules}', {
      details: [{ pointer: '', code: 'invalid_type', message: 'must be an object' }],
    });
  }
  const input = body as Record<string, unknown>;
  for (const k of Object.keys(input)) if (k !== 'defaults' && k !== 'rules') fail(`/${k}`, 'unknown_field', `unknown field "${k}"`);
  const defaults = input.defaults ?? true;
  if (typeof defaults !== 'boolean') fail('/defaults', 'invalid_type', 'defaults must be true or false');
  const rules: RedactionRule[] = [];
  const list = input.rules ?? [];
  if (!Array.isArray(list)) fail('/rules', 'invalid_type', 'rules must be an array');
  else if (list.length > MAX_RULES) fail('/rules', 'too_many_items', `at most ${MAX_RULES} rules`);
  else
    list.forEach((raw, i) => {
      const rule = parseRule(raw, `/rules/${i}`, fail);
      if (rule) rules.push(rule);
    });
  if (errors.length > 0) throw new TrailproofError('REQUEST_INVALID', errors.map((e) => `${e.pointer}: ${e.message}`).join('; '), { details: errors });
  return { defaults: defaults as boolean, rules };
}

function parseRule(raw: unknown, at: string, fail: (pointer: string, code: DetailCode, message: string) => void): RedactionRule | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    fail(at, 'invalid_type', 'a rule must be an object {path|key|detect, action}');
    return undefined;
  }
  const r = raw as Record<string, unknown>;
  for (const k of Object.keys(r)) {
    if (!['path', 'key', 'detect', 'action'].includes(k)) fail(`${at}/${k}`, 'unknown_field', `unknown field "${k}"`);
  }
  const action = r.action;
  if (action !== 'remove' && action !== 'hash') {
    fail(`${at}/action`, 'invalid_enum', 'action must be "remove" or "hash"');
    return undefined;
  }
  const given = ['path', 'key', 'detect'].filter((k) => r[k] !== undefined);
  if (given.length !== 1) {
    fail(at, 'required', 'a rule names exactly one of path, key or detect');
    return undefined;
  }
  const [kind] = given as ['path' | 'key' | 'detect'];
  const value = r[kind];
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_PATTERN) {
    fail(`${at}/${kind}`, 'invalid_type', `${kind} must be a string of 1-${MAX_PATTERN} characters`);
    return undefined;
  }
  if (kind === 'detect') {
    if (value !== 'card_number') {
      fail(`${at}/detect`, 'invalid_enum', 'detect must be "card_number"');
      return undefined;
    }
    return { detect: value, action };
  }
  if (kind === 'key') {
    if (/[\u0000-\u001f]/.test(value)) {
      fail(`${at}/key`, 'control_character', 'key contains a control character');
      return undefined;
    }
    return { key: value, action };
  }
  const segments = value.split('.');
  if (!segments.every((s) => PATH.test(s) && (s === '*' || !s.includes('*')))) {
    fail(`${at}/path`, 'pattern', 'path is member names or * joined by dots (metadata.user.email, targets.*.name)');
    return undefined;
  }
  const shape = segments.map((s, i) => (i > 0 && segments[i - 1] === 'targets' && /^\d+$/.test(s) ? '*' : s)).join('.');
  if (STRUCTURAL.has(shape) || segments[0] === '*') {
    fail(`${at}/path`, 'reserved', `${value} says what the event is and cannot be redacted`);
    return undefined;
  }
  if (action === 'remove' && REQUIRED_PATHS.has(shape)) {
    fail(`${at}/action`, 'invalid_enum', `${value} is required by the event model: it can be hashed, not removed`);
    return undefined;
  }
  if (action === 'hash' && REMOVE_ONLY_PATHS.has(shape)) {
    fail(`${at}/action`, 'invalid_enum', `${value} must stay an address: it can be removed, not hashed`);
    return undefined;
  }
  return { path: value, action };
}

/** A compiled `key` glob, or a list of them (any one matching): `*` matches any run of characters; case-insensitive. */
export function keyMatcher(globs: string | readonly string[]): (name: string) => boolean {
  const source = [globs]
    .flat()
    .map((glob) =>
      glob
        .split('*')
        .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*'),
    )
    .join('|');
  const re = new RegExp(`^(?:${source})$`, 'i');
  return (name) => re.test(name);
}
