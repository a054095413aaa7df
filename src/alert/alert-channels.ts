/**
 * The channels a firing is sent to: a signed webhook (the stream webhook's signature scheme,
 * src/stream/webhook.ts, with the rule's secret), a Slack-compatible incoming webhook (`{"text"}`),
 * and email over SMTP (nodemailer). One interface per channel type; a failure throws with a message
 * fit to store as the firing's last error (never a secret, never the receiver's whole answer).
 */
import nodemailer, { type Transporter } from 'nodemailer';
import type { AlertsConfig } from '../config.ts';
import { httpSender, type HttpSender } from '../stream/http-post.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, webhookSignature } from '../stream/webhook.ts';
import type { Channel } from './alert-rules.ts';

/** What every channel is told about a firing. */
export interface AlertMessage {
  /** The firing's id, stable across retries: receivers de-duplicate by it. */
  id: string;
  tenant: string;
  rule: { id: string; name: string; kind: string };
  group: string;
  window_start: string;
  fired_at: string;
  summary: string;
  details: Record<string, unknown>;
  /** The `alert.fired` record in the tenant's trail. */
  event_uid: string;
}

export const ALERT_ID_HEADER = 'trailproof-alert-id';

export interface ChannelSender<C extends Channel = Channel> {
  send(channel: C, message: AlertMessage, options: { secret: string | undefined; signal: AbortSignal }): Promise<void>;
}

export class AlertChannels {
  private readonly http: HttpSender = httpSender();
  private readonly mail: Transporter | undefined;

  constructor(private readonly config: AlertsConfig) {
    this.mail = config.smtpUrl ? nodemailer.createTransport(config.smtpUrl.reveal()) : undefined;
  }

  readonly senders: { [T in Channel['type']]: ChannelSender<Extract<Channel, { type: T }>> } = {
    webhook: {
      send: async (channel, message, { secret, signal }) => {
        const body = JSON.stringify({ type: 'alert.fired', ...message });
        const timestamp = String(Math.floor(Date.now() / 1000));
        await this.http.post(
          channel.url,
          {
            'content-type': 'application/json',
            'user-agent': 'trailproof-alert/1',
            [ALERT_ID_HEADER]: message.id,
            [TIMESTAMP_HEADER]: timestamp,
            [SIGNATURE_HEADER]: `v1=${webhookSignature(secret ?? '', timestamp, body)}`,
          },
          body,
          signal,
        );
      },
    },
    slack: {
      send: async (channel, message, { signal }) => {
        const body = JSON.stringify({ text: `${subject(message)}\n${message.summary}` });
        await this.http.post(channel.url, { 'content-type': 'application/json', 'user-agent': 'trailproof-alert/1' }, body, signal);
      },
    },
    email: {
      send: async (channel, message) => {
        if (!this.mail) throw new Error('no SMTP server configured (TRAILPROOF_SMTP_URL)');
        try {
          await this.mail.sendMail({
            from: this.config.emailFrom,
            to: channel.to,
            subject: subject(message),
            headers: { 'X-Trailproof-Alert-Id': message.id },
            text: [
              message.summary,
              '',
              `Tenant: ${message.tenant}`,
              `Rule: ${message.rule.name} (${message.rule.kind}, ${message.rule.id})`,
              `Group: ${message.group || '(none)'}`,
              `Window: ${message.window_start}`,
              `Fired: ${message.fired_at}`,
              `Recorded as event ${message.event_uid}`,
            ].join('\n'),
          });
        } catch (err) {
          // nodemailer's errors may quote the SMTP dialogue; the code and response line are enough.
          const e = err as { code?: string; responseCode?: number; message?: string };
          throw new Error(`SMTP: ${e.code ?? ''} ${e.responseCode ?? ''} ${(e.message ?? '').split('\n')[0]!.slice(0, 200)}`.replace(/\s+/g, ' '));
        }
      },
    },
  };

  send(channel: Channel, message: AlertMessage, options: { secret: string | undefined; signal: AbortSignal }): Promise<void> {
    return (this.senders[channel.type] as ChannelSender).send(channel, message, options);
  }

  close(): void {
    this.http.close();
    this.mail?.close();
  }
}

function subject(message: AlertMessage): string {
  return `[Trailproof] ${message.tenant}: ${message.rule.name}`;
}
