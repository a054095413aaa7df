/**
 * A real rsyslog (Debian's `rsyslog` package; `rsyslog-gnutls` for TLS) for the syslog destination
 * tests: started in the foreground with its own configuration on a free loopback port, receiving
 * octet-counted TCP (or TLS, RFC 5425), writing one JSON object per message with the fields rsyslog
 * itself parsed: the RFC 5424 header fields, MSG, and the structured data split into parameters by
 * mmpstrucdata. Control characters are kept as received (not escaped to `#012`) so values with line
 * breaks can be compared.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../../test/helpers/server-process.ts';
import type { TestCertificates } from './certificates.ts';

export interface RsyslogMessage {
  hostname: string;
  appname: string;
  procid: string;
  msgid: string;
  pri: string;
  timestamp: string;
  /** RFC 5424 STRUCTURED-DATA as received, and as parsed by mmpstrucdata. */
  sd: string;
  rfc5424_sd?: Record<string, Record<string, string>>;
  msg: string;
}

export interface Rsyslog {
  port: number;
  /** Waits until rsyslog wrote at least `count` messages; returns them all. */
  messages(count: number, timeoutMs?: number): Promise<RsyslogMessage[]>;
  stop(): Promise<void>;
}

export const RSYSLOGD = ['/usr/sbin/rsyslogd', '/sbin/rsyslogd'].find((p) => fs.existsSync(p));

export async function startRsyslog(options: { tls?: TestCertificates } = {}): Promise<Rsyslog> {
  if (!RSYSLOGD) throw new Error('rsyslogd is not installed: apt-get install -y rsyslog rsyslog-gnutls (see .ci/run)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trailproof-rsyslog-'));
  const port = await freePort();
  const out = path.join(dir, 'messages.jsonl');
  const tls = options.tls;
  const conf = `
global(workDirectory="${dir}" parser.escapeControlCharactersOnReceive="off"
  ${tls ? `defaultNetstreamDriver="gtls" defaultNetstreamDriverCAFile="${tls.caCertFile}" defaultNetstreamDriverCertFile="${tls.serverCertFile}" defaultNetstreamDriverKeyFile="${tls.serverKeyFile}"` : ''})
module(load="imtcp" ${tls ? 'streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon"' : ''})
module(load="mmpstrucdata")
input(type="imtcp" address="127.0.0.1" port="${port}")
template(name="fields" type="list") {
  constant(value="{\\"timestamp\\":\\"") property(name="timestamp" dateFormat="rfc3339") constant(value="\\",\\"fields\\":")
  property(name="$!all-json") constant(value="}\\n")
}
action(type="mmpstrucdata")
set $!hostname = $hostname;
set $!appname = $app-name;
set $!procid = $procid;
set $!msgid = $msgid;
set $!pri = $pri;
set $!sd = $structured-data;
set $!msg = $msg;
action(type="omfile" file="${out}" template="fields")
`;
  fs.writeFileSync(path.join(dir, 'rsyslog.conf'), conf);
  const child: ChildProcess = spawn(RSYSLOGD, ['-n', '-f', path.join(dir, 'rsyslog.conf'), '-i', path.join(dir, 'rsyslogd.pid')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  await waitForPort(port, child, () => output);

  return {
    port,
    async messages(count, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const lines = fs.existsSync(out)
          ? fs
              .readFileSync(out, 'utf8')
              .split('\n')
              .filter((l) => l !== '')
          : [];
        if (lines.length >= count || Date.now() > deadline) {
          return lines.map((l) => {
            const { timestamp, fields } = JSON.parse(l) as {
              timestamp: string;
              fields: RsyslogMessage & { 'rfc5424-sd'?: Record<string, Record<string, string>> };
            };
            return { ...fields, timestamp, ...(fields['rfc5424-sd'] ? { rfc5424_sd: fields['rfc5424-sd'] } : {}) };
          });
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`rsyslogd exited (${child.exitCode}): ${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`rsyslogd did not listen on ${port}: ${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
