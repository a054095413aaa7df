/**
 * Meta-audit (docs/architecture.md, `audit/`): reads, exports, key and tenant changes are themselves audit events,
 * appended to the tenant concerned through the same ledger as every other event. They are built
 * here, never by an HTTP client (their namespaces are reserved, src/event/service-records.ts), are
 * marked `source: "trailproof"`, and recording one never triggers another (no recursion).
 */
import type { Principal } from '../auth/api-keys.ts';
import { TrailproofError } from '../errors.ts';
import { validateEvent } from '../event/validate.ts';
import type { EventBody } from '../event/types.ts';
import type { AppendResult } from '../ingest/append-batch.ts';
import type { GroupCommitter } from '../ingest/group-commit.ts';

export interface RequestContext {
  ip?: string;
  userAgent?: string;
  requestId?: string;
}

export interface AccessRecord {
  tenant: string;
  /** Who acted: a key (or viewer token), a person signed in (actor type `user`), or `actor` for the service itself (a paused stream). */
  principal: Principal | { actor: { type: 'system' | 'user'; id: string; name: string } };
  action: string;
  targets?: { type: string; id: string; name?: string }[];
  metadata?: Record<string, unknown>;
  context?: RequestContext;
  /**
   * A client id under a reserved prefix (service-records.ts), for a record that may be appended
   * again after a crash: with `occurredAt` fixed too, the retry's body is the same and is taken as
   * a duplicate, never as a second record.
   */
  id?: string;
  occurredAt?: Date;
}

/** The records of reads (the rest, key and tenant changes and the like, always wait for the flush). */
const READ_ACTIONS = new Set(['audit_log.viewed', 'audit_log.exported']);

export class MetaAudit {
  constructor(
    private readonly committer: GroupCommitter,
    private readonly options: { readCommit?: 'flush' | 'async' } = {},
  ) {}

  /** Appends the record; resolves after it committed. */
  async record(entry: AccessRecord): Promise<AppendResult> {
    const [result] = await this.committer.append([{ tenant: entry.tenant, body: this.body(entry), commit: this.commitOf(entry.action) }]);
    return result!;
  }

  /** Whether the record of `action` waits for the WAL flush (TRAILPROOF_READ_AUDIT_COMMIT). */
  commitOf(action: string): 'flush' | 'async' {
    return READ_ACTIONS.has(action) ? (this.options.readCommit ?? 'flush') : 'flush';
  }

  /** The record as a validated event body. */
  body(entry: AccessRecord): EventBody {
    const context: Record<string, string> = {};
    if (entry.context?.ip) context.ip = entry.context.ip;
    if (entry.context?.userAgent) context.user_agent = entry.context.userAgent.slice(0, 1024);
    if (entry.context?.requestId) context.request_id = entry.context.requestId;
    const user = 'user' in entry.principal ? entry.principal.user : undefined;
    if (user) context.session_id = user.sessionId;
    const input = {
      ...(entry.id ? { id: entry.id } : {}),
      ...(entry.occurredAt ? { occurred_at: entry.occurredAt.toISOString() } : {}),
      action: entry.action,
      actor:
        'actor' in entry.principal
          ? entry.principal.actor
          : user
            ? { type: 'user', id: user.id, name: user.email.slice(0, 256) }
            : { type: 'api_key', id: entry.principal.keyId, name: entry.principal.name.slice(0, 256) },
      targets: entry.targets ?? [{ type: 'tenant', id: entry.tenant }],
      outcome: 'success',
      context,
      ...(entry.metadata ? { metadata: entry.metadata } : {}),
    };
    // Built from request data (user agent, filters): validate like any event so nothing unstorable
    // can reach the shared group-commit transaction.
    const checked = validateEvent(input, { now: new Date(), origin: 'service' });
    if (!checked.ok) throw new TrailproofError('INTERNAL', `meta-audit event invalid: ${checked.errors.map((e) => `${e.pointer} ${e.code}`).join(', ')}`);
    return checked.body;
  }
}
