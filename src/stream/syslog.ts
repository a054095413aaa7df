/**
 * Syslog over TCP, octet-counted framing (RFC 6587 §3.4.1), in clear or over TLS (RFC 5425, which
 * requires that framing). Format `syslog`: RFC 5424 messages with the event in structured data;
 * format `cef`: RFC 5424 messages whose MSG is the CEF record (what ArcSight/QRadar/Sentinel
 * connectors expect). One connection is kept and reused; any error drops it and the next delivery
 * reconnects.
 *
 * Acknowledgement: syslog over TCP has none. A batch counts as delivered once all its bytes were
 * handed to the kernel; bytes lost with a connection that breaks after that are not retried (RELP
 * would close that window; rsyslog, syslog-ng and every SIEM collector speak plain TCP/TLS).
 */
import net from 'node:net';
import os from 'node:os';
import tls from 'node:tls';
import { cefRecord } from '../export/cef.ts';
import type { StoredEvent } from '../event/types.ts';
import { octetCounted, syslogMessage } from '../export/syslog.ts';
import { caField, configInvalid, deliveryFailed, onlyFields, stringField, type DestinationKind } from './destination.ts';

export interface SyslogConfig {
  host: string;
  port: number;
  tls: boolean;
  /** PEM CA certificates the receiver's certificate must chain to; default the system's. */
  ca?: string;
  /** Name the receiver's certificate must carry; default `host`. */
  servername?: string;
  /** The HOSTNAME field of the messages; default this machine's name. */
  hostname?: string;
}

export const syslogTcp: DestinationKind<SyslogConfig> = {
  kind: 'syslog',
  formats: ['syslog', 'cef'],
  secret: undefined,
  parseConfig(config) {
    onlyFields(config, ['host', 'port', 'tls', 'ca', 'servername', 'hostname']);
    const port = config.port;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) throw configInvalid('port', 'must be a port number (1–65535)');
    if (config.tls !== undefined && typeof config.tls !== 'boolean') throw configInvalid('tls', 'must be true or false');
    const hostname = stringField(config, 'hostname', { max: 255 });
    if (hostname !== undefined && !/^[\x21-\x7e]+$/.test(hostname))
      throw configInvalid('hostname', 'must be printable US-ASCII without spaces (RFC 5424 §6.2.4)');
    const parsed: SyslogConfig = { host: stringField(config, 'host', { required: true, max: 255 })!, port, tls: config.tls === true };
    const ca = caField(config);
    const servername = stringField(config, 'servername', { max: 255 });
    if (ca) parsed.ca = ca;
    if (servername) parsed.servername = servername;
    if (hostname) parsed.hostname = hostname;
    return parsed;
  },
  create({ config, format }) {
    const hostname =
      config.hostname ??
      (os
        .hostname()
        .replace(/[^\x21-\x7e]/g, '')
        .slice(0, 255) ||
        '-');
    const frame =
      format.name === 'cef' ? (e: StoredEvent) => octetCounted(cefMessage(e, hostname)) : (e: StoredEvent) => octetCounted(syslogMessage(e, hostname));
    let socket: net.Socket | undefined;

    const connect = (signal: AbortSignal) =>
      new Promise<net.Socket>((resolve, reject) => {
        const s = config.tls
          ? tls.connect({ host: config.host, port: config.port, servername: config.servername ?? config.host, ...(config.ca ? { ca: config.ca } : {}) })
          : net.connect({ host: config.host, port: config.port });
        const fail = (err: Error) => {
          s.destroy();
          reject(deliveryFailed(`syslog ${config.host}:${config.port}: ${signal.aborted ? 'timed out connecting' : err.message}`, err));
        };
        s.once('error', fail);
        signal.addEventListener('abort', () => fail(new Error('aborted')), { once: true });
        s.once(config.tls ? 'secureConnect' : 'connect', () => {
          s.off('error', fail);
          s.setNoDelay(true);
          // Afterwards an error or a close by the receiver only drops the connection; the next write notices.
          s.on('error', () => {});
          s.once('close', () => {
            if (socket === s) socket = undefined;
          });
          resolve(s);
        });
      });

    return {
      async deliver({ events }, signal) {
        socket ??= await connect(signal);
        const s = socket;
        const payload = events.map(frame).join('');
        await new Promise<void>((resolve, reject) => {
          const onAbort = () => {
            s.destroy();
            reject(deliveryFailed(`syslog ${config.host}:${config.port}: timed out writing`));
          };
          signal.addEventListener('abort', onAbort, { once: true });
          s.write(payload, (err) => {
            signal.removeEventListener('abort', onAbort);
            if (err) {
              s.destroy();
              reject(deliveryFailed(`syslog ${config.host}:${config.port}: ${err.message}`, err));
            } else if (s.destroyed) {
              reject(deliveryFailed(`syslog ${config.host}:${config.port}: connection closed`));
            } else {
              resolve();
            }
          });
        });
      },
      async close() {
        const s = socket;
        socket = undefined;
        if (s && !s.destroyed) await new Promise<void>((resolve) => s.end(resolve));
      },
    };
  },
};

/** An RFC 5424 message whose MSG is the CEF record; PRI as for the `syslog` format. */
export function cefMessage(e: StoredEvent, hostname: string): string {
  const pri = 13 * 8 + (e.outcome === 'failure' ? 4 : 6);
  return `<${pri}>1 ${e.occurred_at} ${hostname} trailproof - ${e.action.slice(0, 32)} - ${cefRecord(e)}`;
}
