/** What route modules get: the shared parts of one running service, built once in `createServices`. */
import { MetaAudit } from '../audit/meta-audit.ts';
import { KeyCache } from '../auth/key-cache.ts';
import { RateLimiter } from '../auth/rate-limit.ts';
import type { Config } from '../config.ts';
import { GroupCommitter } from '../ingest/group-commit.ts';
import type { Sql } from '../store/db.ts';
import { TenantCache } from '../tenant/tenant-cache.ts';
import { Checkpointer } from '../tlog/checkpointer.ts';
import { databaseHashReader } from '../tlog/hash-reader.ts';
import { loadLedgerKeys, type LedgerKeys } from '../tlog/keys.ts';
import { WitnessPusher } from '../witness/pusher.ts';
import { ViewerTokens } from '../auth/viewer-tokens.ts';
import type { Logger } from 'pino';

export interface Services {
  sql: Sql;
  config: Config;
  committer: GroupCommitter;
  audit: MetaAudit;
  keys: KeyCache;
  tenants: TenantCache;
  limiter: RateLimiter;
  ledgerKeys: LedgerKeys;
  /** Signed checkpoints; its background loop runs only once started (by `serve`). */
  checkpointer: Checkpointer;
  /** Pushes each checkpoint to the witnesses of TRAILPROOF_WITNESSES; absent without any. */
  witnessPusher: WitnessPusher | undefined;
  /** Mints and checks viewer tokens (`tpv_…`) for the embeddable viewer. */
  viewerTokens: ViewerTokens;
}

export function createServices(sql: Sql, config: Config, onError?: (err: unknown) => void, ledgerKeys: LedgerKeys = loadLedgerKeys(config), logger?: Logger): Services {
  const committer = new GroupCommitter(sql, onError ? { onError } : {});
  const checkpointer = new Checkpointer(sql, ledgerKeys, { reissueMs: config.ledger.checkpointReissueMs, ...(onError ? { onError } : {}) });
  const witnessPusher = config.witnesses.length === 0
    ? undefined
    : new WitnessPusher({ sql, witnesses: config.witnesses, hashReader: (tenant) => databaseHashReader(sql, tenant), ...(logger ? { logger } : {}) });
  if (witnessPusher) checkpointer.onCheckpoint((checkpoint) => witnessPusher.push(checkpoint));
  return {
    ledgerKeys,
    checkpointer,
    witnessPusher,
    sql,
    config,
    committer,
    audit: new MetaAudit(committer),
    keys: new KeyCache(sql),
    tenants: new TenantCache(sql),
    limiter: new RateLimiter(config.rateLimitPerSecond),
    viewerTokens: new ViewerTokens(config),
  };
}
