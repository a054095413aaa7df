/**
 * RFC 8785 (JCS) canonical JSON for JSON data, the hot path of ingest and verification.
 *
 * Same output as the `canonicalize` package (the reference the tests compare against with
 * fast-check), without its per-character surrogate loop and cycle bookkeeping: property keys sorted
 * by UTF-16 code units (RFC 8785 §3.2.3, which is what Array.prototype.sort does for strings),
 * strings and numbers serialised as ECMAScript JSON.stringify does (§3.2.2), `undefined` members
 * dropped. Values come from JSON.parse or from our own code, so there are no cycles or toJSON.
 */

import { LedgerError } from './errors.ts';

/** Any UTF-16 surrogate: the cheap native test that guards the exact lone-surrogate scan. */
const SURROGATE = /[\uD800-\uDFFF]/;

/** The JCS text of `value`; throws LedgerError NOT_CANONICAL for NaN, ±Infinity, lone surrogates and non-JSON types. */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return jsonString(value);
    case 'number':
      if (!Number.isFinite(value)) throw new LedgerError('NOT_CANONICAL', `${value} has no JSON form`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          out += (i === 0 ? '' : ',') + (item === undefined ? 'null' : canonicalJson(item));
        }
        return `${out}]`;
      }
      const object = value as Record<string, unknown>;
      let out = '{';
      for (const key of Object.keys(object).sort()) {
        const member = object[key];
        if (member === undefined) continue;
        out += `${out.length === 1 ? '' : ','}${jsonString(key)}:${canonicalJson(member)}`;
      }
      return `${out}}`;
    }
    default:
      throw new LedgerError('NOT_CANONICAL', `a ${typeof value} has no JSON form`);
  }
}

function jsonString(value: string): string {
  if (SURROGATE.test(value) && hasLoneSurrogate(value)) throw new LedgerError('NOT_CANONICAL', 'a string holds a lone surrogate');
  return JSON.stringify(value);
}

function hasLoneSurrogate(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
      i++;
    } else if (code >= 0xdc00 && code <= 0xdfff) {
      return true;
    }
  }
  return false;
}
