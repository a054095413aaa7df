/** What route modules get: the shared parts of one running service, built once in `createServices`. */
import { MetaAudit } from '../audit/meta-audit.ts';
import { KeyCache } from '../auth/key-cache.ts';
import { RateLimiter } from '../auth/rate-limit.ts';
import type { Config } from '../config.ts';
import { GroupCommitter } from '../ingest/group-commit.ts';
import type { Sql } from '../store/db.ts';
import { TenantCache } from '../tenant/tenant-cache.ts';
import { Checkpointer } from '../tlog/checkpointer.ts';
import { loadLedgerKeys, type LedgerKeys } from '../tlog/keys.ts';

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
}

export function createServices(sql: Sql, config: Config, onError?: (err: unknown) => void, ledgerKeys: LedgerKeys = loadLedgerKeys(config)): Services {
  const committer = new GroupCommitter(sql, onError ? { onError } : {});
  return {
    ledgerKeys,
    checkpointer: new Checkpointer(sql, ledgerKeys, { reissueMs: config.ledger.checkpointReissueMs, ...(onError ? { onError } : {}) }),
    sql,
    config,
    committer,
    audit: new MetaAudit(committer),
    keys: new KeyCache(sql),
    tenants: new TenantCache(sql),
    limiter: new RateLimiter(config.rateLimitPerSecond),
  };
}
