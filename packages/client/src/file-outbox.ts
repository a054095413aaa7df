/**
 * The local-file outbox: events appended to a JSON Lines file (fsynced before `write` returns,
 * unless `sync: false`), relayed by OutboxRelay. `<path>.offset` holds the byte offset up to
 * which events were delivered; once everything is delivered both files are emptied. One process
 * writes a given file.
 */
import fs from 'node:fs';
import { completeEvent } from './complete.ts';
import type { OutboxStore } from './outbox.ts';
import type { EventInput, RecordInput } from './types.ts';

export class FileOutbox implements OutboxStore {
  readonly #path: string;
  readonly #offsetPath: string;
  readonly #sync: boolean;
  readonly #tenant: string | undefined;
  #fd: number;

  constructor(path: string, options: { sync?: boolean; tenant?: string } = {}) {
    this.#path = path;
    this.#offsetPath = `${path}.offset`;
    this.#sync = options.sync ?? true;
    this.#tenant = options.tenant;
    this.#fd = fs.openSync(path, 'a');
    this.#dropTornLine();
  }

  /** Cuts a last line that a crash left without its newline, so the next event starts a line of its own. */
  #dropTornLine(): void {
    const data = fs.readFileSync(this.#path);
    if (data.length > 0 && data[data.length - 1] !== 0x0a) fs.ftruncateSync(this.#fd, data.lastIndexOf(0x0a) + 1);
  }

  /** Appends `event` durably and returns its id. */
  write(event: RecordInput): string {
    const full = completeEvent(event, this.#tenant);
    fs.writeSync(this.#fd, `${JSON.stringify(full)}\n`);
    if (this.#sync) fs.fdatasyncSync(this.#fd);
    return full.id!;
  }

  async pending(limit: number): Promise<{ key: string; event: EventInput }[]> {
    const start = this.#delivered();
    const size = fs.fstatSync(this.#fd).size;
    if (size <= start) return [];
    const fd = fs.openSync(this.#path, 'r');
    try {
      const buffer = Buffer.alloc(Math.min(size - start, 64 * 1024 * 1024));
      const read = fs.readSync(fd, buffer, 0, buffer.length, start);
      const out: { key: string; event: EventInput }[] = [];
      let at = 0;
      while (out.length < limit) {
        const end = buffer.indexOf(0x0a, at);
        // A line without its newline is a write cut short by a crash: not an event yet.
        if (end < 0 || end >= read) break;
        out.push({ key: String(start + end + 1), event: JSON.parse(buffer.toString('utf8', at, end)) as EventInput });
        at = end + 1;
      }
      return out;
    } finally {
      fs.closeSync(fd);
    }
  }

  async remove(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    const offset = Math.max(...keys.map(Number));
    // Synchronous, so no write() interleaves between the size check and the truncation.
    if (offset >= fs.fstatSync(this.#fd).size) {
      fs.ftruncateSync(this.#fd, 0);
      fs.rmSync(this.#offsetPath, { force: true });
      return;
    }
    fs.writeFileSync(`${this.#offsetPath}.tmp`, String(offset));
    fs.renameSync(`${this.#offsetPath}.tmp`, this.#offsetPath);
  }

  close(): void {
    fs.closeSync(this.#fd);
  }

  #delivered(): number {
    try {
      return Number(fs.readFileSync(this.#offsetPath, 'utf8')) || 0;
    } catch {
      return 0;
    }
  }
}
