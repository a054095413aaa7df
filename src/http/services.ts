/** What route modules get: the shared parts of one running service, built once in `createServices`. */
import { MetaAudit } from '../audit/meta-audit.ts';
import { ReadRecords } from '../audit/read-records.ts';
import { KeyCache } from '../auth/key-cache.ts';
import { RateLimiter } from '../auth/rate-limit.ts';
import { RevocationListener } from '../auth/revocations.ts';
import type { Config } from '../config.ts';
import { GroupCommitter } from '../ingest/group-commit.ts';
import { createMetrics, type Metrics } from '../metrics.ts';
import type { Sql } from '../store/db.ts';
import { poolMetrics } from '../store/pool-metrics.ts';
import { TenantCache } from '../tenant/tenant-cache.ts';
import { Checkpointer } from '../tlog/checkpointer.ts';
import { databaseHashReader, type StoredHashes } from '../tlog/hash-reader.ts';
import { LruNodeCache } from '../tlog/node-cache.ts';
import type { HashReader } from '../ledger/proofs.ts';
import { loadLedgerKeys, type LedgerKeys } from '../tlog/keys.ts';
import { selfAuditMetrics } from '../tlog/self-audit.ts';
import { WitnessPusher } from '../witness/pusher.ts';
import { ViewerTokens } from '../auth/viewer-tokens.ts';
import type { Logger } from 'pino';
import { SecretBox } from '../stream/secret-box.ts';
import { StreamService } from '../stream/stream-service.ts';
import { StreamWorker } from '../stream/worker.ts';
import { Lifecycle } from '../lifecycle/lifecycle-run.ts';
import { RedactionService } from '../redaction/redaction-service.ts';
import { TenantKeys } from '../tenant/tenant-keys.ts';
import { CaptureRelays } from '../capture/relays.ts';
import { CommittedFollower } from '../query/committed-follower.ts';
import { rollupHandler } from '../stats/rollups.ts';
import { SavedSearches } from '../query/saved-searches.ts';
import { ArchiveService } from '../lifecycle/archive/archive-service.ts';
import { openArchiveStore } from '../lifecycle/archive/archive-store.ts';
import { ActionSchemas } from '../schema/action-schemas.ts';
import { AlertRules } from '../alert/alert-rules.ts';
import { AlertService } from '../alert/alert-notifier.ts';
import { OidcSignIn } from '../people/oidc.ts';

export interface Services {
  sql: Sql;
  config: Config;
  committer: GroupCommitter;
  audit: MetaAudit;
  /** Records of reads of one event, on their way into the ledger; sweeps only once started (by `serve`). */
  readRecords: ReadRecords;
  keys: KeyCache;
  /** Hears revocations made by any process (docs/security.md); listens only once started (by `serve`). */
  revocations: RevocationListener;
  tenants: TenantCache;
  limiter: RateLimiter;
  ledgerKeys: LedgerKeys;
  /** Signed checkpoints; its background loop runs only once started (by `serve`). */
  checkpointer: Checkpointer;
  /** Pushes each checkpoint to the witnesses of TRAILPROOF_WITNESSES; absent without any. */
  witnessPusher: WitnessPusher | undefined;
  /** Mints and checks viewer tokens (`tpv_…`) for the embeddable viewer. */
  viewerTokens: ViewerTokens;
  /** Stream destinations (docs/streams.md). */
  streams: StreamService;
  /** Delivers the streams; runs only once started (by `serve`). */
  streamWorker: StreamWorker;
  /** Keeps the rollups of `GET /v1/stats` as events commit; runs only once started (by `serve`). */
  rollups: CommittedFollower;
  /** Named filters shared within a tenant (docs/api.md#saved-searches). */
  savedSearches: SavedSearches;
  /** Alert rules per tenant (docs/alerts.md). */
  alertRules: AlertRules;
  /** Evaluates alert rules as events commit and delivers their firings; runs only once started (by `serve`). */
  alerts: AlertService;
  /**
   * A tenant's stored tree, for proofs; hashes above the leaves are cached for the service's
   * lifetime. `known`: stored hashes already read (databaseHashReader).
   */
  hashReader(tenant: string, known?: StoredHashes): HashReader;
  /** Retention and purge runs (docs/lifecycle.md); scheduled only once started (by `serve`). */
  lifecycle: Lifecycle;
  /** The Prometheus registry every part reports its metrics to (docs/metrics.md). */
  metrics: Metrics;
  /** Each tenant's own key, for keyed hashes (redaction, erasure). */
  tenantKeys: TenantKeys;
  /** Redaction at the door (docs/redaction.md). */
  redaction: RedactionService;
  /** Relays captured changes of TRAILPROOF_CAPTURE_DATABASE_URL (docs/capture.md); run only once started (by `serve`). */
  captureRelays: CaptureRelays;
  /** The cold archive (docs/lifecycle.md#cold-archive). */
  archive: ArchiveService;
  /** Per-action schemas that ingest checks events against (docs/schemas.md). */
  schemas: ActionSchemas;
  /** OIDC sign-in to the console (docs/sso.md); absent without TRAILPROOF_OIDC_ISSUER. */
  oidc: OidcSignIn | undefined;
}

export function createServices(
  sql: Sql,
  config: Config,
  onError?: (err: unknown) => void,
  ledgerKeys: LedgerKeys = loadLedgerKeys(config),
  logger?: Logger,
): Services {
  const metrics = createMetrics(config.metrics.seriesLimit);
  poolMetrics(sql, metrics, config.dbPoolSize);
  selfAuditMetrics(sql, metrics);
  const committer = new GroupCommitter(sql, { metrics, ...(onError ? { onError } : {}) });
  const nodeCache = new LruNodeCache();
  const hashReader = (tenant: string, known?: StoredHashes) => databaseHashReader(sql, tenant, nodeCache, known);
  const checkpointer = new Checkpointer(sql, ledgerKeys, { reissueMs: config.ledger.checkpointReissueMs, metrics, ...(onError ? { onError } : {}) });
  const witnessPusher =
    config.witnesses.length === 0 ? undefined : new WitnessPusher({ sql, witnesses: config.witnesses, hashReader, ...(logger ? { logger } : {}) });
  if (witnessPusher) checkpointer.onCheckpoint((checkpoint) => witnessPusher.push(checkpoint));
  const audit = new MetaAudit(committer, { readCommit: config.readAuditCommit });
  const secrets = new SecretBox(config);
  const keys = new KeyCache(sql);
  const tenantKeys = new TenantKeys(sql, secrets);
  const archive = new ArchiveService({
    sql,
    store: openArchiveStore(config.archiveUrl, config.dataDir),
    tenantKeys,
    ledgerKeys,
    checkpointer,
    hashReader,
    defaultDays: config.lifecycle.defaultRetentionDays,
  });
  const streamWorker = new StreamWorker({ sql, audit, secrets, config: config.streams, committer, metrics, ...(logger ? { logger } : {}) });
  return {
    ledgerKeys,
    checkpointer,
    witnessPusher,
    sql,
    config,
    committer,
    audit,
    readRecords: new ReadRecords(sql, committer, audit, onError ? { onError } : {}),
    keys,
    revocations: new RevocationListener(sql, keys, onError ? { onError } : {}),
    tenants: new TenantCache(sql),
    limiter: new RateLimiter(config.rateLimitPerSecond),
    viewerTokens: new ViewerTokens(config),
    streams: new StreamService({ sql, audit, secrets, onActivated: () => streamWorker.poke() }),
    streamWorker,
    rollups: new CommittedFollower({ sql, handler: rollupHandler, committer, ...(logger ? { logger } : {}) }),
    savedSearches: new SavedSearches({ sql, audit }),
    alertRules: new AlertRules({ sql, audit, secrets, emailEnabled: config.alerts.smtpUrl !== undefined }),
    alerts: new AlertService({ sql, audit, secrets, config: config.alerts, committer, ...(logger ? { logger } : {}) }),
    hashReader,
    metrics,
    lifecycle: new Lifecycle({
      sql,
      audit,
      archiver: archive,
      defaultDays: config.lifecycle.defaultRetentionDays,
      ...config.lifecycle,
      ...(logger ? { logger } : {}),
    }),
    tenantKeys,
    redaction: new RedactionService(sql, tenantKeys),
    schemas: new ActionSchemas(sql),
    captureRelays: new CaptureRelays(config.captureDatabaseUrls, committer, { metrics, ...(logger ? { logger } : {}) }),
    archive,
    oidc: config.oidc ? new OidcSignIn(config.oidc, secrets) : undefined,
  };
}
