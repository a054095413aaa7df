/**
 * Generated requests for every operation of the API (read from its own OpenAPI document): path
 * parameters, the query parameters each operation defines (and unknown ones), and JSON bodies
 * shaped like the operation's schema, filled with values from the edges of what parsers take
 * (timestamps at the ends of RFC 3339, 1e400, NUL, lone surrogates, crafted cursors). Shared by
 * test/api/fuzz.test.ts (a few per operation) and bench/probe.ts (many).
 */
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';

export interface Operation {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** OpenAPI path, `{name}` for path parameters. */
  path: string;
  query: string[];
  /** Top-level body properties, when the operation takes a JSON object. */
  body: Record<string, unknown> | null;
}

export interface FuzzRequest {
  method: Operation['method'];
  url: string;
  /** Raw JSON text (it may hold what JSON.stringify never writes: 1e400, escaped lone surrogates). */
  payload?: string;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, { parameters?: { in: string; name: string }[]; requestBody?: unknown }>>;
}

/** Every operation of the app's OpenAPI document (the app itself, or GET /openapi.json's answer). */
export function operations(source: FastifyInstance | OpenApiDocument): Operation[] {
  const spec = ('paths' in source ? source : source.swagger()) as OpenApiDocument;
  const ops: Operation[] = [];
  for (const [path, byMethod] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(byMethod)) {
      const query = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
      const schema = (op.requestBody as { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> } | undefined)?.content?.[
        'application/json'
      ]?.schema;
      ops.push({ method: method.toUpperCase() as Operation['method'], path, query, body: op.requestBody ? (schema?.properties ?? {}) : null });
    }
  }
  return ops;
}

/**
 * encodeURIComponent, but a lone surrogate (which has no UTF-8 form) is sent as the bytes a careless
 * encoder writes for it (CESU-8, `%ED%A0%80`): the server must refuse those too.
 */
export function encodeParam(text: string): string {
  return [...text]
    .map((c) =>
      /^[\ud800-\udfff]$/.test(c)
        ? [0xe0 | (c.charCodeAt(0) >> 12), 0x80 | ((c.charCodeAt(0) >> 6) & 0x3f), 0x80 | (c.charCodeAt(0) & 0x3f)]
            .map((b) => `%${b.toString(16).toUpperCase()}`)
            .join('')
        : encodeURIComponent(c),
    )
    .join('');
}

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** Values at the edges: each one has sent a route to 500 or been read as something else. */
export const EDGE_TEXT = [
  '',
  'acme',
  '0',
  '-1',
  '1e400',
  '-1e400',
  'Infinity',
  'NaN',
  '9007199254740993',
  '99999999999999999999999',
  '1.5',
  'true',
  'null',
  '0000-01-01T00:00:00Z',
  '0001-01-01T00:00:00+23:59',
  '9999-12-31T23:59:59-23:59',
  '2026-02-30T00:00:00Z',
  '2026-02-30',
  '2026-13-01T00:00:00Z',
  '2026-01-01T24:00:00Z',
  '2026-01-01T00:00:60Z',
  '+010000-01-01T00:00:00Z',
  '-999999w',
  '-1h',
  'a\u0000b',
  'x\ud800y',
  '\udc00',
  '\u2028',
  '*',
  '*.*',
  '..',
  '../../etc/passwd',
  '%00',
  'a'.repeat(5000),
  '1.2.3.4/99',
  '::ffff:1.2.3.4',
  b64({ o: '+010000-01-01T00:00:00.000Z', s: 1, d: 'desc' }),
  b64({ o: '0000-06-01T00:00:00.000Z', s: 0, d: 'asc' }),
  b64('{"o":"2026-01-01T00:00:00Z","s":1e400,"d":"desc"}'),
  b64('{"v":1,"t":"acme","s":9007199254740993}'),
  b64({ v: 1, t: 'acme', s: -1 }),
  b64('not json'),
];

const edgeText = fc.oneof(
  { arbitrary: fc.constantFrom(...EDGE_TEXT), weight: 4 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 12 }), weight: 1 },
  { arbitrary: fc.integer().map(String), weight: 1 },
);

/** The values the sweep sends in each parameter in turn: each once took some route to a 500. */
export const SWEEP_TEXT = [
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59-23:59',
  '1e400',
  'a\u0000b',
  'x\ud800y',
  b64({ o: '+010000-01-01T00:00:00.000Z', s: 1, d: 'desc' }),
];

/**
 * Deterministic requests for one operation: each path and query parameter (and an unknown one) in
 * turn set to each SWEEP_TEXT value, with `tenant` named as `tenant` where the operation takes it.
 */
export function edgeSweep(op: Operation, tenant: string): FuzzRequest[] {
  const pathParams = [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
  const fill = (name: string, value: string) =>
    pathParams.reduce((p, n) => p.replace(`{${n}}`, encodeParam(n === name ? value : n === 'tenant' ? tenant : 'x')), op.path);
  const base = op.query.includes('tenant') ? `tenant=${tenant}` : '';
  const requests: FuzzRequest[] = [];
  const body = op.body === null ? {} : { payload: '{}' };
  for (const value of SWEEP_TEXT) {
    for (const name of pathParams) requests.push({ method: op.method, url: `${fill(name, value)}${base ? `?${base}` : ''}`, ...body });
    for (const name of [...op.query.filter((q) => q !== 'tenant'), 'bogus', ...(base ? [] : ['tenant'])]) {
      const query = [base, `${name}=${encodeParam(name === 'wait' ? '0' : value)}`].filter(Boolean).join('&');
      requests.push({ method: op.method, url: `${fill('', '')}?${query}`, ...body });
    }
  }
  return requests;
}

/** A JSON value as raw text: edge numbers and strings are written as they would arrive. */
const rawValue: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    edgeText.map(jsonString),
    fc.constantFrom('1e400', '-1e400', '0', '-1', '1.5', '9007199254740993', 'true', 'false', 'null', '{}', '[]'),
    fc.array(tie('value'), { maxLength: 3 }).map((items) => `[${items.join(',')}]`),
    fc.dictionary(fc.constantFrom('type', 'id', 'since', 'until', 'name', 'actions', 'x'), tie('value'), { maxKeys: 3 }).map(rawObject),
  ),
})).value;

/** JSON text of a string, with lone surrogates written as `\uXXXX` escapes (as a client would send them). */
function jsonString(text: string): string {
  return JSON.stringify(text).replace(/[\ud800-\udfff]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

function rawObject(fields: Record<string, string>): string {
  return `{${Object.entries(fields)
    .map(([k, v]) => `${jsonString(k)}:${v}`)
    .join(',')}}`;
}

/** Requests for one operation; `tenants` are ids to use where a tenant is named (path, query or body). */
export function requestArbitrary(op: Operation, tenants: string[]): fc.Arbitrary<FuzzRequest> {
  const tenantish = fc.oneof({ arbitrary: fc.constantFrom(...tenants), weight: 3 }, { arbitrary: edgeText, weight: 1 });
  const pathParams = [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
  const path = fc
    .tuple(...pathParams.map((name) => (name === 'tenant' || name === 'id' ? tenantish : edgeText)))
    .map((values) => pathParams.reduce((p, name, i) => p.replace(`{${name}}`, name === '*' ? String(values[i]) : encodeParam(String(values[i]))), op.path));
  const queryNames = [...op.query, 'bogus'];
  const query = fc
    .uniqueArray(fc.constantFrom(...queryNames), { maxLength: Math.min(4, queryNames.length) })
    // Most requests name the tenant, so that they get past tenant resolution to the handler.
    .chain((names) => fc.boolean().map((named) => (named && op.query.includes('tenant') && !names.includes('tenant') ? [...names, 'tenant'] : names)))
    .chain((names) => fc.tuple(...names.map((name) => (name === 'tenant' ? tenantish : edgeText).map((v) => [name, v] as const))))
    // `wait` is a long poll: 0 keeps the request short while the other values still arrive.
    .map((pairs) => pairs.map(([name, v]) => `${encodeParam(name)}=${encodeParam(name === 'wait' && /^\d+$/.test(v) ? '0' : v)}`).join('&'));
  const bodyKeys = op.body ? [...Object.keys(op.body), 'tenant', 'bogus'] : [];
  const body: fc.Arbitrary<string | undefined> =
    op.body === null
      ? fc.constant(undefined)
      : fc.oneof(
          fc.dictionary(fc.constantFrom(...bodyKeys), rawValue, { maxKeys: 5 }).map(rawObject),
          rawValue,
          fc.constantFrom('', '{', '{"a":1e400}', '[', '"\\ud800"', '{"__proto__":{"x":1}}', `{"tenant":"${tenants[0]}"}`),
        );
  return fc.record({ path, query, body }).map(({ path: p, query: q, body: b }) => ({
    method: op.method,
    url: q ? `${p}?${q}` : p,
    ...(b === undefined ? {} : { payload: b }),
  }));
}
