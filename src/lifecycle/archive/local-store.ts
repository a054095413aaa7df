/**
 * The local-directory archive store: one file per object, written to a temporary file, flushed
 * and renamed into place (a crash leaves the old state or the whole object, never half of it), and
 * made read-only.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { type ArchiveStore, checkName, conflict } from './archive-store.ts';

export class LocalArchiveStore implements ArchiveStore {
  readonly location: string;

  constructor(private readonly root: string) {
    this.location = `file://${root}`;
  }

  async put(name: string, data: Uint8Array): Promise<void> {
    checkName(name);
    const file = path.join(this.root, name);
    const existing = await this.get(name);
    if (existing) {
      if (existing.equals(data)) return;
      throw conflict(this.location, name);
    }
    await fs.mkdir(path.dirname(file), { recursive: true });
    const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    const handle = await fs.open(temp, 'wx', 0o444);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      // link, not rename: it fails instead of replacing an object another writer put there meanwhile.
      await fs.link(temp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (!(await this.get(name))?.equals(data)) throw conflict(this.location, name);
    } finally {
      await fs.rm(temp, { force: true });
    }
  }

  async get(name: string): Promise<Buffer | undefined> {
    checkName(name);
    try {
      return await fs.readFile(path.join(this.root, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const names: string[] = [];
    const walk = async (dir: string, rel: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const entry of entries) {
        const name = rel ? `${rel}/${entry.name}` : entry.name;
        if (entry.isDirectory()) await walk(path.join(dir, entry.name), name);
        else if (!entry.name.endsWith('.tmp') && name.startsWith(prefix)) names.push(name);
      }
    };
    await walk(this.root, '');
    return names.sort();
  }
}
