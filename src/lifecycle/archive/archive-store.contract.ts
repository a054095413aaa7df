/** The contract every ArchiveStore keeps, run by each store's test in a few lines. */
import { describe, expect, it } from 'vitest';
import { TrailproofError } from '../../errors.ts';
import type { ArchiveStore } from './archive-store.ts';

export function testArchiveStore(name: string, open: () => ArchiveStore): void {
  describe(`${name} archive store`, () => {
    it('stores, returns and lists objects by name', async () => {
      const store = open();
      expect(await store.get('acme/none.tpseg.gz')).toBeUndefined();
      await store.put('acme/000000000000-000000000010.tpseg.gz', Buffer.from('segment a'));
      await store.put('acme/000000000000-000000000010.manifest.json', Buffer.from('{"a":1}'));
      await store.put('globex/000000000000-000000000004.tpseg.gz', Buffer.from('segment g'));
      expect((await store.get('acme/000000000000-000000000010.tpseg.gz'))?.toString()).toBe('segment a');
      expect(await store.list('acme/')).toEqual(['acme/000000000000-000000000010.manifest.json', 'acme/000000000000-000000000010.tpseg.gz']);
      expect(await store.list('nobody/')).toEqual([]);
    });

    it('never replaces an object: the same bytes again are fine, other bytes are refused', async () => {
      const store = open();
      await store.put('acme/once.tpseg.gz', Buffer.from('first'));
      await store.put('acme/once.tpseg.gz', Buffer.from('first'));
      const err = await store.put('acme/once.tpseg.gz', Buffer.from('second')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TrailproofError);
      expect((err as TrailproofError).code).toBe('ARCHIVE_CONFLICT');
      expect((await store.get('acme/once.tpseg.gz'))?.toString()).toBe('first');
    });

    it('refuses names that could leave its root', async () => {
      const store = open();
      for (const bad of ['../x', 'acme/../../x', '/abs', 'a//b', ''])
        await expect(store.put(bad, Buffer.from('x'))).rejects.toThrow(/invalid archive object name/);
    });

    it('accepts a retention time whether or not it can enforce it', async () => {
      const store = open();
      await store.put('acme/locked.tpseg.gz', Buffer.from('kept'), { retainUntil: new Date(Date.now() + 86_400_000) });
      expect((await store.get('acme/locked.tpseg.gz'))?.toString()).toBe('kept');
    });
  });
}
