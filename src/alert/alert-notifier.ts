/**
 * Alerting's moving parts in one process: the alert follower (alert-evaluator.ts), the absence
 * judge and the notifier. The notifier takes due firings (a lease, so racing processes never take
 * one at once and a crashed one's firings come due again), records each as `alert.fired` in the
 * tenant's trail under the client id `alert-firing:<id>` (a retry appends the same body, taken as a
 * duplicate), then sends it to each channel not yet sent to, retrying with backoff.
 */
import type { Logger } from 'pino';
import type { MetaAudit } from '../audit/meta-audit.ts';
import type { AlertsConfig } from '../config.ts';
import type { GroupCommitter } from '../ingest/group-commit.ts';
import { CommittedFollower } from '../query/committed-follower.ts';
import type { Sql } from '../store/db.ts';
import type { SecretBox } from '../stream/secret-box.ts';
import { AlertChannels, type AlertMessage } from './alert-channels.ts';
import { alertHandler, fireAbsences } from './alert-evaluator.ts';
import type { Channel } from './alert-rules.ts';

/** The client id prefix of `alert.fired` records (reserved, src/event/service-records.ts). */
export const FIRING_ID_PREFIX = 'alert-firing:';
const LEASE_SECONDS = 60;
const SEND_TIMEOUT_MS = 10_000;
const MAX_ATTEMPTS = 12;
const BATCH = 20;

interface DueFiring {
  id: string;
  rule_id: string;
  tenant_id: string;
  group_key: string;
  window_start: Date;
  fired_at: Date;
  summary: string;
  details: Record<string, unknown>;
  attempts: number;
  sent: number[];
  name: string;
  kind: string;
  channels: Channel[];
  secret: Uint8Array | null;
}

export interface AlertServiceOptions {
  sql: Sql;
  audit: MetaAudit;
  secrets: SecretBox;
  config: AlertsConfig;
  committer?: GroupCommitter;
  logger?: Logger;
}

export class AlertService {
  readonly follower: CommittedFollower;
  private readonly channels: AlertChannels;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(private readonly options: AlertServiceOptions) {
    const { sql, committer, logger } = options;
    this.follower = new CommittedFollower({ sql, handler: alertHandler, ...(committer ? { committer } : {}), ...(logger ? { logger } : {}) });
    this.channels = new AlertChannels(options.config);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.follower.start();
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.follower.stop();
    await this.running;
    this.channels.close();
  }

  /** Judges absences, then delivers every due firing; resolves when none is left due. */
  async tick(): Promise<void> {
    await fireAbsences(this.options.sql);
    for (;;) {
      const due = await this.claim();
      if (due.length === 0) return;
      for (const firing of due) await this.deliver(firing);
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .catch((err: unknown) => this.options.logger?.error({ err }, 'alert delivery pass failed; retried at the next poll'))
        .finally(() => {
          this.running = undefined;
          this.schedule(this.options.config.pollMs);
        });
    }, ms);
  }

  private async claim(): Promise<DueFiring[]> {
    return this.options.sql<DueFiring[]>`
      with due as (
        select id from alert_firings where delivered_at is null and next_attempt_at <= now()
        order by id limit ${BATCH} for update skip locked
      ), taken as (
        update alert_firings f set attempts = f.attempts + 1, next_attempt_at = now() + make_interval(secs => ${LEASE_SECONDS})
        from due where f.id = due.id returning f.*
      )
      select t.id::text, t.rule_id, t.tenant_id, t.group_key, t.window_start, t.fired_at, t.summary, t.details, t.attempts, t.sent,
             r.name, r.kind, r.channels, r.secret
      from taken t join alert_rules r on r.id = t.rule_id order by t.id`;
  }

  private async deliver(f: DueFiring): Promise<void> {
    const { sql, audit, secrets, logger } = this.options;
    try {
      const recorded = await audit.record({
        tenant: f.tenant_id,
        principal: { actor: { type: 'system', id: 'trailproof', name: 'Trailproof alerts' } },
        action: 'alert.fired',
        id: `${FIRING_ID_PREFIX}${f.id}`,
        occurredAt: f.fired_at,
        targets: [{ type: 'alert_rule', id: f.rule_id, name: f.name }],
        metadata: { firing: f.id, kind: f.kind, group: f.group_key, window_start: f.window_start.toISOString(), summary: f.summary, ...f.details },
      });
      if (!('uid' in recorded)) throw new Error(`alert.fired not recorded: ${recorded.status}`);
      const message: AlertMessage = {
        id: f.id,
        tenant: f.tenant_id,
        rule: { id: f.rule_id, name: f.name, kind: f.kind },
        group: f.group_key,
        window_start: f.window_start.toISOString(),
        fired_at: f.fired_at.toISOString(),
        summary: f.summary,
        details: f.details,
        event_uid: recorded.uid,
      };
      const secret = f.secret ? secrets.open(f.secret, f.rule_id) : undefined;
      const errors: string[] = [];
      for (const [i, channel] of f.channels.entries()) {
        if (f.sent.includes(i)) continue;
        try {
          await this.channels.send(channel, message, { secret, signal: AbortSignal.timeout(SEND_TIMEOUT_MS) });
          await sql`update alert_firings set sent = array_append(sent, ${i}::int) where id = ${f.id}`;
        } catch (err) {
          errors.push(`${channel.type} #${i}: ${(err as Error).message}`);
        }
      }
      if (errors.length > 0) throw new Error(errors.join('; '));
      await sql`update alert_firings set delivered_at = now(), last_error = null where id = ${f.id}`;
    } catch (err) {
      const message = (err as Error).message.slice(0, 1000);
      const retry = f.attempts >= MAX_ATTEMPTS ? null : Math.min(2 ** f.attempts, 3600);
      logger?.warn({ firing: f.id, rule: f.rule_id, tenant: f.tenant_id, error: message, attempts: f.attempts }, 'alert delivery failed');
      await sql`
        update alert_firings set last_error = ${message},
          next_attempt_at = ${retry === null ? sql`'infinity'::timestamptz` : sql`now() + make_interval(secs => ${retry})`}
        where id = ${f.id}`;
    }
  }
}
