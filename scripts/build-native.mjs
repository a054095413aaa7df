#!/usr/bin/env node
/**
 * Run after `npm install` / `npm ci` (package.json "postinstall"): builds the optional native addons
 * with node-gyp, which npm ships: SHA-256 (native/sha256.c, see src/ledger/native-sha256.ts) and the
 * export's tidying (native/tidy.c, see src/export/native-tidy.ts). It needs a C compiler, make,
 * python3 and Node's headers (npm's `nodedir`, or node-gyp downloads them).
 *
 * Optional: if they cannot be built, this says so and the install goes on. Trailproof then hashes
 * with node:crypto and tidies exports in JavaScript, with the same results; verifying bundles,
 * appending and exporting run slower (docs/benchmarks.md).
 * TRAILPROOF_NATIVE=0 skips the build (and its use at run time).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../native/', import.meta.url));

if (process.env.TRAILPROOF_NATIVE === '0') {
  process.stdout.write('native addons: skipped (TRAILPROOF_NATIVE=0)\n');
  process.exit(0);
}

// npm tells its scripts where its node-gyp is; run by hand, look beside npm itself.
const candidates = [
  process.env.npm_config_node_gyp,
  path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
].filter((file) => file && fs.existsSync(file));

const started = Date.now();
const result =
  candidates.length === 0
    ? { status: null, error: new Error('node-gyp not found (it comes with npm)') }
    : spawnSync(process.execPath, [candidates[0], 'rebuild'], { cwd: dir, encoding: 'utf8' });
if (result.status === 0) {
  process.stdout.write(`native addons (SHA-256, export tidying): built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
} else {
  // node-gyp ends every failure with the same lines (command, cwd, versions, "not ok"): show the lines
  // before them, where it says what was missing.
  const trailer = /^gyp ERR! (command|cwd|node -v|node-gyp -v|not ok|System)/;
  const why =
    result.error?.message ??
    `${result.stderr ?? ''}`
      .trim()
      .split('\n')
      .filter((line) => !trailer.test(line) && !line.startsWith('gyp info'))
      .slice(-8)
      .join('\n');
  process.stderr.write(
    `native addons: not built, so Trailproof hashes with node:crypto and tidies exports in JavaScript (same results; verification and exports slower). Why:\n${why}\n`,
  );
}
