import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { testArchiveStore } from './archive-store.contract.ts';
import { LocalArchiveStore } from './local-store.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

testArchiveStore('local directory', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trailproof-archive-'));
  dirs.push(dir);
  return new LocalArchiveStore(dir);
});
