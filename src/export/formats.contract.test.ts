/**
 * The contract every export format keeps, run against each one: records stream in order with the
 * preamble once, every record can be split out of the concatenated output, and the fields read
 * back equal what was sent — including values built to break escaping (quotes, backslashes, `]`,
 * `=`, `|`, line breaks, non-ASCII, spreadsheet formula starts).
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../event/types.ts';
import { EVENT_FORMATS } from './formats.ts';
import { formatPages } from './format.ts';
import { ANY_LINE_BREAK } from './line-breaks.ts';
import { cefExtension } from './testing/cef-parser.ts';
import { nastyEvent } from './testing/nasty-event.ts';

const NASTY = [
  'src=10.0.0.1 act=forged',
  'quote " and \\ backslash',
  'bracket ] equals = pipe |',
  'line\nbreak and\r\ncrlf',
  'ünïcødé — 東京 🙂',
  '=HYPERLINK("x")',
  "'+leading apostrophe",
  '-1',
  '@cmd',
  ' spaced ',
];

/** Every third event is a service record, which each format must mark. */
const event = (n: number): StoredEvent => ({ ...nastyEvent(n, NASTY[n % NASTY.length]!), ...(n % 3 === 0 ? { source: 'trailproof' as const } : {}) });

/** What each format must carry faithfully, read back with a parser for that format. */
interface Fields {
  uid: string;
  action: string;
  outcome: string;
  actorId: string;
  actorName: string;
  ip: string;
  reason: string;
  userAgent: string;
  location: string;
  tenant: string;
  /** `trailproof` on a service record, else empty. */
  source: string;
}

const expected = (e: StoredEvent): Fields => ({
  uid: e.uid,
  action: e.action,
  outcome: e.outcome,
  actorId: e.actor.id,
  actorName: e.actor.name!,
  ip: e.context.ip!,
  reason: e.reason!,
  userAgent: e.context.user_agent!,
  location: e.context.location!,
  tenant: e.tenant,
  source: e.source ?? '',
});

const fromStored = (e: StoredEvent): Fields => expected(e);

const readers: Record<string, (output: string) => Fields[]> = {
  jsonl: (out) => lines(out).map((l) => fromStored(JSON.parse(l) as StoredEvent)),
  hec: (out) => lines(out).map((l) => fromStored((JSON.parse(l) as { event: StoredEvent }).event)),
  ecs: (out) =>
    lines(out).map((l) => {
      const d = JSON.parse(l) as {
        event: { id: string; action: string; outcome: string; reason: string; provider?: string };
        user: { id: string; name: string };
        source: { ip: string };
        user_agent: { original: string };
        trailproof: { tenant: string; location: string };
      };
      return {
        uid: d.event.id,
        action: d.event.action,
        outcome: d.event.outcome,
        actorId: d.user.id,
        actorName: d.user.name,
        ip: d.source.ip,
        reason: d.event.reason,
        userAgent: d.user_agent.original,
        location: d.trailproof.location,
        tenant: d.trailproof.tenant,
        source: d.event.provider ?? '',
      };
    }),
  ocsf: (out) =>
    lines(out).map((l) => {
      const d = JSON.parse(l) as {
        metadata: { uid: string; event_code: string; tenant_uid: string };
        status_id: number;
        status_detail: string;
        actor: { user: { uid: string; name: string } };
        src_endpoint: { ip: string };
        http_request: { user_agent: string };
        unmapped: { location: string; source?: string };
      };
      return {
        uid: d.metadata.uid,
        action: d.metadata.event_code,
        outcome: d.status_id === 2 ? 'failure' : 'success',
        actorId: d.actor.user.uid,
        actorName: d.actor.user.name,
        ip: d.src_endpoint.ip,
        reason: d.status_detail,
        userAgent: d.http_request.user_agent,
        location: d.unmapped.location,
        tenant: d.metadata.tenant_uid,
        source: d.unmapped.source ?? '',
      };
    }),
  csv: (out) =>
    (parseCsv(out, { columns: true }) as Record<string, string>[]).map((r) => {
      const cell = (k: string) => r[k]!.replace(/^'(?='*[=+\-@\t\r])/, '');
      return {
        uid: cell('uid'),
        action: cell('action'),
        outcome: cell('outcome'),
        actorId: cell('actor_id'),
        actorName: cell('actor_name'),
        ip: cell('ip'),
        reason: cell('reason'),
        userAgent: cell('user_agent'),
        location: cell('location'),
        tenant: 'acme',
        source: cell('source'),
      };
    }),
  cef: (out) =>
    lines(out).map((l) => {
      const ext = cefExtension(l);
      return {
        uid: ext.externalId!,
        action: ext.act!,
        outcome: ext.outcome!,
        actorId: ext.suid!,
        actorName: ext.suser!,
        ip: ext.src!,
        reason: ext.msg!,
        userAgent: ext.requestClientApplication!,
        location: ext.cs4!,
        tenant: ext.cs1!,
        source: ext.flexString1Label === 'source' ? ext.flexString1! : '',
      };
    }),
  syslog: (out) =>
    octetFrames(out).map((m) => {
      const p = sdParams(m);
      return {
        uid: p.uid!,
        action: p.action!,
        outcome: p.outcome!,
        actorId: p.actor_id!,
        actorName: p.actor_name!,
        ip: p.ip!,
        reason: p.reason!,
        userAgent: p.user_agent!,
        location: p.location!,
        tenant: p.tenant!,
        source: p.source ?? '',
      };
    }),
};

/** The chunks as text: each ends with a whole record, so each decodes on its own. */
async function chunksOf(chunks: AsyncIterable<Buffer>): Promise<string[]> {
  const all: string[] = [];
  for await (const chunk of chunks) all.push(chunk.toString('utf8'));
  return all;
}

describe.each([...EVENT_FORMATS.values()])('export format $name', (format) => {
  const events = Array.from({ length: NASTY.length * 2 }, (_, n) => event(n));

  it('has a reader in this suite', () => {
    expect(readers[format.name]).toBeTypeOf('function');
  });

  it('streams the preamble once, then one record per event in order, page after page', async () => {
    const pages = [events.slice(0, 3), events.slice(3, 4), events.slice(4)];
    const chunks = await chunksOf(formatPages(format, pages));
    expect(chunks).toHaveLength(3);
    expect(chunks.join('')).toBe((format.preamble ?? '') + events.map((e) => format.record(e)).join(''));
    expect(await chunksOf(formatPages(format, []))).toEqual(format.preamble ? [format.preamble] : []);
  });

  it('writes the exact UTF-8 of multi-byte records across chunk boundaries, a record longer than a chunk too', async () => {
    // Two, three and four bytes a character: records that fit a chunk's length in characters but not in bytes.
    const long = { ...event(1), metadata: { note: 'é€😀'.repeat(20_000) } };
    const huge = { ...event(2), metadata: { note: 'é€😀x'.repeat(40_000) } };
    const many = Array.from({ length: 3000 }, (_, n) => event(n));
    const pages = [many.slice(0, 1500), [long, ...many.slice(1500)], [huge, long, long]];
    const bytes: Buffer[] = [];
    for await (const chunk of formatPages(format, pages)) bytes.push(chunk);
    const text =
      (format.preamble ?? '') +
      pages
        .flat()
        .map((e) => format.record(e))
        .join('');
    expect(Buffer.concat(bytes).equals(Buffer.from(text))).toBe(true);
  });

  it('reads back every field it was given, hostile characters included', async () => {
    const out = (await chunksOf(formatPages(format, [events]))).join('');
    expect(readers[format.name]!(out)).toEqual(events.map(expected));
  });

  it('states its media type and file extension', () => {
    expect(format.mediaType).toMatch(/^[a-z]+\/[a-z0-9.+-]+/);
    expect(format.extension).toMatch(/^[a-z0-9.]+$/);
  });
});

/** Formats whose records are lines (CSV quotes its breaks per RFC 4180; syslog frames by octets). */
const LINE_ORIENTED = [...EVENT_FORMATS.keys()].filter((name) => name !== 'csv' && name !== 'syslog');

describe.each(LINE_ORIENTED)('line-oriented format %s', (name) => {
  it('is one line per event for a reader that splits at every Unicode line break', async () => {
    const format = EVENT_FORMATS.get(name)!;
    const breaks = 'lf\n vt\v ff\f cr\r crlf\r\n nel\u0085 ls\u2028 ps\u2029 end';
    const events = Array.from({ length: 50 }, (_, n) => nastyEvent(n, breaks));
    const out = (await chunksOf(formatPages(format, [events]))).join('');
    const records = out.split(ANY_LINE_BREAK).filter((l) => l !== '');
    expect(records).toHaveLength(events.length);
  });
});

function lines(out: string): string[] {
  return out.split('\n').filter((l) => l !== '');
}

/** RFC 6587 octet-counted frames (lengths in bytes). */
function octetFrames(out: string): string[] {
  const buf = Buffer.from(out);
  const frames: string[] = [];
  for (let i = 0; i < buf.length; ) {
    const space = buf.indexOf(0x20, i);
    const len = Number(buf.subarray(i, space).toString());
    frames.push(buf.subarray(space + 1, space + 1 + len).toString());
    i = space + 1 + len;
  }
  return frames;
}

/** The PARAM="VALUE" pairs of the first SD-ELEMENT of an RFC 5424 message, unescaped. */
function sdParams(message: string): Record<string, string> {
  const out: Record<string, string> = {};
  const start = message.indexOf('[');
  // RFC 5424 §6.3.3: inside PARAM-VALUE, '"', '\\' and ']' MUST be escaped.
  const param = /([^ =\]"]+)="((?:[^"\\\]]|\\.)*)"/gy;
  let i = message.indexOf(' ', start) + 1;
  while (message[i] !== ']') {
    param.lastIndex = i;
    const m = param.exec(message)!;
    out[m[1]!] = m[2]!.replace(/\\([\\"\]])/g, '$1');
    i = param.lastIndex + (message[param.lastIndex] === ' ' ? 1 : 0);
  }
  return out;
}
