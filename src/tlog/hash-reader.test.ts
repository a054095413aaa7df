import { afterAll } from 'vitest';
import { validateEvent } from '../event/validate.ts';
import { GroupCommitter } from '../ingest/group-commit.ts';
import { createTenant } from '../tenant/tenant-repository.ts';
import { testHashReader } from '../../test/contract/hash-reader-contract.ts';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/database.ts';
import { recomputedLeafHashes } from '../../test/reliability/ledger-checks.ts';
import { databaseHashReader } from './hash-reader.ts';

let db: TestDatabase | undefined;
afterAll(() => db?.drop());

testHashReader('database (ledger_leaves + ledger_nodes)', async (n) => {
  db = await createTestDatabase();
  await createTenant(db.sql, { id: 'acme' });
  const committer = new GroupCommitter(db.sql);
  // Uneven batches, so tile-level nodes are completed across batch boundaries.
  for (let done = 0; done < n; ) {
    const count = Math.min(n - done, 97 + (done % 200));
    const items = Array.from({ length: count }, (_, i) => {
      const checked = validateEvent({ action: 'document.read', actor: { type: 'user', id: `u${done + i}` } }, { now: new Date() });
      if (!checked.ok) throw new Error('invalid test event');
      return { tenant: 'acme', body: checked.body };
    });
    await committer.append(items);
    done += count;
  }
  await committer.close();
  return { reader: databaseHashReader(db.sql, 'acme'), leaves: await recomputedLeafHashes(db.sql, 'acme') };
});
