/** The archive of a process that has no service around it (the CLI): the configured store, on its own database session. */
import type { Config } from '../../config.ts';
import type { Sql } from '../../store/db.ts';
import { SecretBox } from '../../stream/secret-box.ts';
import { TenantKeys } from '../../tenant/tenant-keys.ts';
import { Checkpointer } from '../../tlog/checkpointer.ts';
import { databaseHashReader } from '../../tlog/hash-reader.ts';
import { loadLedgerKeys } from '../../tlog/keys.ts';
import { LruNodeCache } from '../../tlog/node-cache.ts';
import { ArchiveService } from './archive-service.ts';
import { openArchiveStore } from './archive-store.ts';

export function openArchiveService(sql: Sql, config: Config): ArchiveService {
  const ledgerKeys = loadLedgerKeys(config);
  const nodeCache = new LruNodeCache();
  return new ArchiveService({
    sql,
    store: openArchiveStore(config.archiveUrl, config.dataDir),
    tenantKeys: new TenantKeys(sql, new SecretBox(config)),
    ledgerKeys,
    checkpointer: new Checkpointer(sql, ledgerKeys),
    hashReader: (tenant) => databaseHashReader(sql, tenant, nodeCache),
    defaultDays: config.lifecycle.defaultRetentionDays,
  });
}
