/**
 * Syslog destination against a real rsyslog (Debian package), over TCP and over TLS (RFC 5425),
 * in RFC 5424 and CEF: rsyslog must parse out of each message the same fields that were sent,
 * including values with quotes, backslashes, `]`, `=`, `|`, line breaks and non-ASCII
 * (issue 5, acceptance 1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../event/types.ts';
import { EVENT_FORMATS } from '../export/formats.ts';
import { SD_ID } from '../export/syslog.ts';
import { eventSummary } from '../export/summary.ts';
import { cefExtension, cefHeader } from '../export/testing/cef-parser.ts';
import { testDestination } from './destination-contract.ts';
import { syslogTcp } from './syslog.ts';
import { makeTestCertificates } from './testing/certificates.ts';
import { startRsyslog, type Rsyslog, type RsyslogMessage } from './testing/rsyslog.ts';
import { sampleEvents } from './testing/sample-events.ts';

const certs = makeTestCertificates();

function create(config: Record<string, unknown>, format: string) {
  return syslogTcp.create({
    id: 'st_sys',
    tenant: 'acme',
    name: 'syslog',
    config: syslogTcp.parseConfig(config),
    secret: undefined,
    format: EVENT_FORMATS.get(format)!,
  });
}

const sdOf = (m: RsyslogMessage) => m.rfc5424_sd?.[SD_ID] ?? {};

testDestination(
  'syslog (rsyslog, TCP)',
  async () => {
    const rsyslog = await startRsyslog();
    return {
      format: 'syslog',
      destination: () => create({ host: '127.0.0.1', port: rsyslog.port }, 'syslog'),
      destinationAt: (host, port) => create({ host, port }, 'syslog'),
      receivedUids: async (count) => (await rsyslog.messages(count)).map((m) => sdOf(m).uid!),
      close: () => rsyslog.stop(),
    };
  },
  { acknowledges: false },
);

for (const transport of ['tcp', 'tls'] as const) {
  describe(`syslog over ${transport.toUpperCase()} into rsyslog`, () => {
    let rsyslog: Rsyslog;
    const config = () =>
      transport === 'tls'
        ? { host: 'localhost', port: rsyslog.port, tls: true, ca: certs.caCert, hostname: 'tp-host' }
        : { host: '127.0.0.1', port: rsyslog.port, hostname: 'tp-host' };
    beforeAll(async () => {
      rsyslog = await startRsyslog(transport === 'tls' ? { tls: certs } : {});
    }, 60_000);
    afterAll(() => rsyslog?.stop());

    it('RFC 5424: rsyslog parses header and structured data into the fields that were sent', async () => {
      const events = sampleEvents(0, 12);
      const destination = create(config(), 'syslog');
      await destination.deliver({ records: [], events }, AbortSignal.timeout(10_000));
      await destination.close();
      const got = await rsyslog.messages(events.length);
      expect(got).toHaveLength(events.length);
      got.forEach((m, i) => {
        const e = events[i]!;
        expect({ hostname: m.hostname, appname: m.appname, msgid: m.msgid, pri: m.pri, timestamp: m.timestamp }).toEqual({
          hostname: 'tp-host',
          appname: 'trailproof',
          msgid: e.action,
          pri: String(13 * 8 + (e.outcome === 'failure' ? 4 : 6)),
          timestamp: e.occurred_at,
        });
        expect(sdOf(m)).toEqual(expectedSd(e));
        expect(m.msg).toBe(eventSummary(e));
      });
    });

    it('CEF: rsyslog receives the CEF record as MSG; header and extension parse back to the fields sent', async () => {
      const before = (await rsyslog.messages(0, 0)).length;
      const events = sampleEvents(50, 12);
      const destination = create(config(), 'cef');
      await destination.deliver({ records: [], events }, AbortSignal.timeout(10_000));
      await destination.close();
      const got = (await rsyslog.messages(before + events.length)).slice(before);
      expect(got).toHaveLength(events.length);
      got.forEach((m, i) => {
        const e = events[i]!;
        expect(m.msgid).toBe(e.action);
        expect(cefHeader(m.msg)).toEqual([
          'CEF:0',
          'Trailproof',
          'Trailproof',
          expect.any(String),
          e.action,
          eventSummary(e).replace(/\r?\n|\r/g, ' '),
          e.outcome === 'failure' ? '6' : '3',
        ]);
        expect(cefExtension(m.msg)).toMatchObject({
          externalId: e.uid,
          act: e.action,
          outcome: e.outcome,
          suid: e.actor.id,
          suser: e.actor.name,
          src: e.context.ip,
          requestClientApplication: e.context.user_agent,
          msg: e.reason,
          cs1: e.tenant,
          cs3: JSON.stringify(e.targets),
          cs4: e.context.location,
          cn1: String(e.seq),
          cs6: JSON.stringify({ changes: e.changes, metadata: e.metadata }),
        });
      });
    });
  });
}

describe('syslog settings', () => {
  it('validates host, port and hostname', () => {
    expect(() => syslogTcp.parseConfig({ host: 'x' })).toThrow(/port/);
    expect(() => syslogTcp.parseConfig({ port: 514 })).toThrow(/host/);
    expect(() => syslogTcp.parseConfig({ host: 'x', port: 514, hostname: 'has space' })).toThrow(/hostname/);
    expect(syslogTcp.parseConfig({ host: 'x', port: 6514, tls: true })).toEqual({ host: 'x', port: 6514, tls: true });
  });
});

/** Every SD-PARAM the syslog format sends (src/export/syslog.ts), as strings. */
function expectedSd(e: StoredEvent): Record<string, string> {
  const all: Record<string, unknown> = {
    uid: e.uid,
    tenant: e.tenant,
    seq: e.seq,
    action: e.action,
    outcome: e.outcome,
    actor_type: e.actor.type,
    actor_id: e.actor.id,
    actor_name: e.actor.name,
    targets: JSON.stringify(e.targets),
    ip: e.context.ip,
    user_agent: e.context.user_agent,
    location: e.context.location,
    request_id: e.context.request_id,
    reason: e.reason,
    changes: JSON.stringify(e.changes),
    metadata: JSON.stringify(e.metadata),
    received_at: e.received_at,
  };
  return Object.fromEntries(
    Object.entries(all)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, String(v)]),
  );
}
