/**
 * Rules every request's input follows, whatever the route (docs/errors.md#input-rules), so that no
 * malformed value reaches PostgreSQL or a handler and comes back as a 500:
 *  - an API route refuses query parameters it does not define (a typo is never silently ignored);
 *  - text holds no NUL (PostgreSQL's text cannot) and no lone UTF-16 surrogate (it has no UTF-8
 *    form: PostgreSQL would store U+FFFD instead), in the query, the path and the body;
 *  - numbers are finite (`1e400` reads as Infinity, which JSON Schema's `maximum` lets through);
 *  - `date-time` in a schema means what `occurred_at` accepts (parseRfc3339): real dates, in years
 *    0001 to 9999.
 * POST /v1/events checks its own body per event (`config.checksOwnBody`), so that one bad event of
 * a batch does not refuse the others.
 */
import type { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyRequest } from 'fastify';
import { type DetailCode, TrailproofError } from '../errors.ts';
import { parseRfc3339 } from '../event/timestamp.ts';
import { LONE_SURROGATE } from '../ledger/encoding.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The handler validates the body itself, field by field (the input rules then skip it). */
    checksOwnBody?: boolean;
  }
}

/** Routes whose query parameters are checked against their schema: the API's, not the console's pages. */
const API_PREFIXES = ['/v1/', '/t/'];

/**
 * ajv-formats with a strict `date-time`. Named `formatsPlugin` so that Fastify, seeing it, does
 * not add ajv-formats again over it.
 */
export function formatsPlugin(ajv: Ajv): Ajv {
  addFormats.default(ajv);
  ajv.addFormat('date-time', { type: 'string', validate: (text: string) => parseRfc3339(text) !== undefined });
  return ajv;
}

/** preValidation: unknown query parameters, then NUL and lone surrogates anywhere in the input. */
export async function refuseMalformedInput(request: FastifyRequest): Promise<void> {
  refuseUnknownParameters(request);
  const text = (value: unknown): [DetailCode, string] | undefined => {
    if (typeof value !== 'string') return undefined;
    const lone = LONE_SURROGATE.exec(value);
    if (lone) return ['invalid_string', `must be valid Unicode text (lone UTF-16 surrogate at index ${lone.index})`];
    if (value.includes('\u0000')) return ['control_character', `must not contain NUL (at index ${value.indexOf('\u0000')})`];
    return undefined;
  };
  check(request, text);
}

/** preHandler (after the schema's type coercion): numbers that are not finite. */
export async function refuseNonFiniteNumbers(request: FastifyRequest): Promise<void> {
  check(request, (value) => (typeof value === 'number' && !Number.isFinite(value) ? ['out_of_range', 'must be a finite number'] : undefined));
}

type Rule = (value: unknown) => [DetailCode, string] | undefined;

function check(request: FastifyRequest, rule: Rule): void {
  const inQuery = firstBreach(request.query, rule);
  if (inQuery) throw refused('QUERY_INVALID', inQuery);
  const inPath = firstBreach(request.params, rule);
  if (inPath) throw refused('REQUEST_INVALID', inPath);
  if (request.routeOptions.config.checksOwnBody) return;
  const inBody = firstBreach(request.body, rule);
  if (inBody) throw refused('REQUEST_INVALID', inBody);
}

function refuseUnknownParameters(request: FastifyRequest): void {
  const url = request.routeOptions.url ?? '';
  if (!API_PREFIXES.some((p) => url.startsWith(p))) return;
  const schema = request.routeOptions.schema?.querystring as { properties?: Record<string, unknown> } | undefined;
  if (schema !== undefined && schema.properties === undefined) return;
  const known = schema?.properties ?? {};
  const unknown = Object.keys((request.query as Record<string, unknown> | undefined) ?? {}).find((name) => !Object.hasOwn(known, name));
  if (unknown === undefined) return;
  const name = wellFormed(unknown);
  throw refused('QUERY_INVALID', { pointer: `/${escapePointer(name)}`, code: 'unknown_field', message: `unknown parameter "${name}"` });
}

interface Breach {
  pointer: string;
  code: DetailCode;
  message: string;
}

/** The first value (or object key) the rule refuses, walked without recursion (bodies nest deep). */
function firstBreach(root: unknown, rule: Rule): Breach | undefined {
  const stack: [unknown, string][] = [[root, '']];
  while (stack.length > 0) {
    const [value, pointer] = stack.pop()!;
    const own = rule(value);
    if (own) return { pointer, code: own[0], message: own[1] };
    if (typeof value !== 'object' || value === null) continue;
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i]!;
      const inKey = rule(key);
      if (inKey) return { pointer: `${pointer}/${escapePointer(key)}`, code: inKey[0], message: `key ${inKey[1]}` };
      stack.push([child, `${pointer}/${escapePointer(key)}`]);
    }
  }
  return undefined;
}

function refused(code: 'QUERY_INVALID' | 'REQUEST_INVALID', breach: Breach): TrailproofError {
  const pointer = wellFormed(breach.pointer);
  return new TrailproofError(code, `${pointer || 'the body'} ${breach.message}`, { details: [{ ...breach, pointer }] });
}

/** The text with each lone surrogate as U+FFFD, fit to be written into a message. */
function wellFormed(text: string): string {
  return text.replace(new RegExp(LONE_SURROGATE.source, 'g'), '\ufffd');
}

/** RFC 6901: `~` and `/` in a key. */
function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}
