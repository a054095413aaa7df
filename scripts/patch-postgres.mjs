#!/usr/bin/env node
/**
 * Run after `npm install` / `npm ci` (package.json "postinstall"): fixes a crash in postgres.js that
 * is still open upstream as of 3.4.9 (porsager/postgres#1066, #1154, #1208).
 *
 * A write of under 1 KiB is sent from a setImmediate. If the connection closes before it runs (a
 * backend terminated, PostgreSQL restarted, the network gone), postgres.js calls `socket.write` on
 * null there: a TypeError no caller can catch, which ends the process. `sql.begin` hits it whenever
 * its transaction's connection dies (its ROLLBACK is such a write). The fix settles the waiting
 * queries with CONNECTION_CLOSED instead, as the pending upstream fixes do.
 *
 * Idempotent; it refuses loudly if the code it patches is not what it expects (a new postgres.js:
 * check whether upstream fixed it, then update or drop this script). test/store/connection-loss.test.ts
 * fails without the fix.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const MARKER = 'Patched by Trailproof';
const ORIGINAL = `  function nextWrite(fn) {
    const x = socket.write(chunk, fn)`;
const PATCHED = `  function nextWrite(fn) {
    if (socket === null) {
      // ${MARKER} (scripts/patch-postgres.mjs, porsager/postgres#1208): the connection closed
      // between this write being scheduled and now. Settle the queries waiting for it
      // (CONNECTION_CLOSED) instead of throwing from a timer, which no caller can catch.
      nextWriteTimer !== null && clearImmediate(nextWriteTimer)
      chunk = nextWriteTimer = null
      error(Errors.connection('CONNECTION_CLOSED', options, socket))
      return false
    }
    const x = socket.write(chunk, fn)`;

// The package's CommonJS entry is cjs/src/index.js; its root is two levels up.
const root = path.resolve(path.dirname(createRequire(import.meta.url).resolve('postgres')), '..', '..');
let patched = 0;
for (const variant of ['src', 'cjs/src', 'cf/src']) {
  const file = path.join(root, variant, 'connection.js');
  if (!fs.existsSync(file)) continue;
  const text = fs.readFileSync(file, 'utf8');
  if (text.includes(MARKER)) continue;
  if (text.split(ORIGINAL).length !== 2) {
    throw new Error(`${file}: nextWrite is not the code this patch was written for; see scripts/patch-postgres.mjs`);
  }
  fs.writeFileSync(file, text.replace(ORIGINAL, PATCHED));
  patched += 1;
}
if (patched > 0) process.stdout.write(`postgres.js: patched nextWrite in ${patched} file(s) (porsager/postgres#1208)\n`);
