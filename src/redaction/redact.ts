/**
 * Applying redaction rules to one validated event body (docs/redaction.md). Pure: the caller
 * supplies the rules and the tenant's keyed hash. Order: the `path` rules, then a walk of the
 * event's free-form parts (context, metadata, actor and target metadata, changes) for `key` rules
 * and detectors; within each, the first matching rule decides. Each field is redacted at most once.
 */
import { canonicalJson } from '../ledger/jcs.ts';
import type { EventBody } from '../event/types.ts';
import type { KeyedHash } from '../tenant/tenant-keys.ts';
import { DEFAULT_RULES, keyMatcher, REMOVE_ONLY_PATHS, REQUIRED_PATHS, type RedactionAction, type RedactionRule, type RedactionSettings } from './rules.ts';

export interface Redacted {
  body: EventBody;
  /** JSON pointers (RFC 6901, within the event) of the fields removed or hashed, in order. */
  redacted: string[];
}

/** Prefix of a keyed hash that stands in for a value. */
export const HASH_PREFIX = 'hmac:';

/** The stand-in for a value: `hmac:` and the first 128 bits of HMAC-SHA256 over its text, hex. */
export function redactedForm(hash: KeyedHash, value: unknown): string {
  return HASH_PREFIX + hash(textOf(value)).slice(0, 32);
}

/** The text a value is hashed as: a string itself, anything else its RFC 8785 JSON. */
export function textOf(value: unknown): string {
  return typeof value === 'string' ? value : canonicalJson(value);
}

/** The rules in force for settings: the tenant's own first, then (when on) the defaults. */
export function rulesInForce(settings: RedactionSettings): readonly RedactionRule[] {
  return settings.defaults ? [...settings.rules, ...DEFAULT_RULES] : settings.rules;
}

export function redactEvent(input: EventBody, rules: readonly RedactionRule[], hash: KeyedHash): Redacted {
  if (rules.length === 0) return { body: input, redacted: [] };
  // Most events hold nothing to redact: a walk that only looks finds that out, and only an event
  // that holds something is copied and redacted. Until the first field is redacted the two walks
  // are the same, so the look finds something exactly when the redaction will.
  if (redactInPlace(input, rules, undefined).length === 0) return { body: input, redacted: [] };
  const body = structuredClone(input);
  return { body, redacted: redactInPlace(body, rules, hash) };
}

/** Redacts `input` itself, or with no `hash` only looks; the pointers of what it redacted (would redact). */
function redactInPlace(input: EventBody, rules: readonly RedactionRule[], hash: KeyedHash | undefined): string[] {
  const body = input as EventBody & Record<string, unknown>;
  const done = new Set<string>();
  const redacted: string[] = [];
  const apply = (parent: Container, key: string | number, at: string[], action: RedactionAction) => {
    const pointer = toPointer(at);
    if (done.has(pointer)) return;
    done.add(pointer);
    const shape = shapeOf(at);
    const effective = REQUIRED_PATHS.has(shape) ? 'hash' : REMOVE_ONLY_PATHS.has(shape) ? 'remove' : action;
    const value = (parent as Record<string | number, unknown>)[key];
    if (value === undefined) return;
    redacted.push(pointer);
    if (hash === undefined) return;
    if (effective === 'hash') (parent as Record<string | number, unknown>)[key] = redactedForm(hash, value);
    else if (Array.isArray(parent)) parent[key as number] = null;
    else delete (parent as Record<string, unknown>)[key as string];
  };

  for (const rule of rules) {
    if (!('path' in rule)) continue;
    for (const { parent, key, at } of locate(body, rule.path.split('.'))) apply(parent, key, at, rule.action);
  }

  const { keyAction, detector } = compiled(rules);
  // Members of free-form objects: a matching name redacts the member; otherwise its value is
  // checked by the detector, or walked into.
  const walk = (value: unknown, at: string[], parent: Container | undefined, key: string | number | undefined, named: boolean) => {
    if (parent !== undefined && key !== undefined) {
      const action = named ? keyAction(String(key)) : undefined;
      if (action) return apply(parent, key, at, action);
      if (detector && containsCardNumber(value)) return apply(parent, key, at, detector.action);
    }
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...at, String(i)], value, i, false));
    else if (isObject(value)) for (const k of Object.keys(value)) walk(value[k], [...at, k], value, k, true);
  };
  const detectOnly = (parent: Container, key: string | number, at: string[]) => {
    const value = (parent as Record<string | number, unknown>)[key];
    if (detector && value !== undefined && containsCardNumber(value)) apply(parent, key, at, detector.action);
  };

  walk(body.context, ['context'], undefined, undefined, true);
  walk(body.metadata, ['metadata'], undefined, undefined, true);
  detectOnly(body.actor, 'name', ['actor', 'name']);
  walk(body.actor.metadata, ['actor', 'metadata'], undefined, undefined, true);
  body.targets.forEach((t, i) => {
    detectOnly(t, 'name', ['targets', String(i), 'name']);
    walk(t.metadata, ['targets', String(i), 'metadata'], undefined, undefined, true);
  });
  detectOnly(body, 'reason', ['reason']);
  body.changes?.forEach((change, i) => {
    const action = keyAction(change.field);
    for (const side of ['before', 'after'] as const) {
      const at = ['changes', String(i), side];
      if (action) apply(change, side, at, action);
      else walk(change[side], at, change, side, false);
    }
  });
  return redacted;
}

type Container = Record<string, unknown> | unknown[] | object;

interface CompiledRules {
  /** The action of the first `key` rule that matches a member name. */
  keyAction: (name: string) => RedactionAction | undefined;
  detector: Extract<RedactionRule, { detect: string }> | undefined;
}

/**
 * Rule lists compiled once each: the redaction service keeps one list per tenant for a while, and
 * every event of that tenant is walked with it.
 */
const compiledRules = new WeakMap<readonly RedactionRule[], CompiledRules>();

function compiled(rules: readonly RedactionRule[]): CompiledRules {
  let found = compiledRules.get(rules);
  if (found) return found;
  const byKey = rules.flatMap((r) => ('key' in r ? [{ match: keyMatcher(r.key), action: r.action }] : []));
  // Most member names match no rule: one test of every glob at once rules them out.
  const any = byKey.length === 0 ? undefined : keyMatcher(rules.flatMap((r) => ('key' in r ? [r.key] : [])));
  found = {
    keyAction: (name) => (any?.(name) ? byKey.find((k) => k.match(name))?.action : undefined),
    detector: rules.find((r): r is Extract<RedactionRule, { detect: string }> => 'detect' in r),
  };
  compiledRules.set(rules, found);
  return found;
}

/** Every existing location a dotted path names (`*`: each member or element). */
function locate(root: unknown, segments: string[]): { parent: Container; key: string | number; at: string[] }[] {
  let frontier: { value: unknown; at: string[] }[] = [{ value: root, at: [] }];
  const found: { parent: Container; key: string | number; at: string[] }[] = [];
  segments.forEach((segment, depth) => {
    const last = depth === segments.length - 1;
    const next: { value: unknown; at: string[] }[] = [];
    for (const { value, at } of frontier) {
      const keys: (string | number)[] = Array.isArray(value)
        ? segment === '*'
          ? value.map((_, i) => i)
          : /^\d+$/.test(segment) && Number(segment) < value.length
            ? [Number(segment)]
            : []
        : isObject(value)
          ? segment === '*'
            ? Object.keys(value)
            : Object.hasOwn(value, segment)
              ? [segment]
              : []
          : [];
      for (const key of keys) {
        const child = (value as Record<string | number, unknown>)[key];
        if (last) found.push({ parent: value as Container, key, at: [...at, String(key)] });
        else next.push({ value: child, at: [...at, String(key)] });
      }
    }
    frontier = next;
  });
  return found;
}

/** The path with array indices of targets written `*`, to compare with REQUIRED_PATHS and the like. */
function shapeOf(at: string[]): string {
  return at.map((s, i) => (i === 1 && at[0] === 'targets' ? '*' : s)).join('.');
}

function toPointer(at: string[]): string {
  return at.map((s) => `/${s.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const CARD_CANDIDATE = /(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)/g;

/** Whether a string (or number) holds a 13-19 digit run, spaces or dashes allowed, that passes the Luhn check. */
export function containsCardNumber(value: unknown): boolean {
  const text = typeof value === 'string' ? value : typeof value === 'number' && Number.isInteger(value) ? String(value) : undefined;
  if (text === undefined || text.length < 13) return false;
  for (const match of text.matchAll(CARD_CANDIDATE)) if (luhn(match[0].replace(/[ -]/g, ''))) return true;
  return false;
}

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}
