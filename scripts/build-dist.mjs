#!/usr/bin/env node
/**
 * Builds dist/, the JavaScript that `trailproof` runs: `tsc -b tsconfig.build.json` (incremental:
 * nothing is compiled again when no source changed), and packages/client/dist (the SDK), then the files of src/ that are not
 * TypeScript but are read at run time (the SQL migrations), kept in step with src/. Exits non-zero
 * when tsc reports an error.
 *
 *   node scripts/build-dist.mjs           incremental (the test suite and benchmarks run this first)
 *   node scripts/build-dist.mjs --clean   from scratch, so no output of a deleted source remains (npm run build)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = path.join(ROOT, 'src');
const DIST = path.join(ROOT, 'dist');
/** Extensions of the files under src/ that dist/ needs as they are. */
const ASSETS = new Set(['.sql']);

if (process.argv.includes('--clean')) {
  fs.rmSync(DIST, { recursive: true, force: true });
  fs.rmSync(path.join(ROOT, 'packages/client/dist'), { recursive: true, force: true });
}

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
// tsc emits even when it reports type errors, so dist/ follows the sources either way; the exit
// status says whether it did.
const tscStatus = spawnSync(process.execPath, [tsc, '-b', path.join(ROOT, 'tsconfig.build.json'), path.join(ROOT, 'packages/client/tsconfig.json')], {
  cwd: ROOT,
  stdio: 'inherit',
}).status;

// Copy each asset that changed; remove those whose source is gone.
const wanted = new Set();
for (const entry of fs.readdirSync(SRC, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !ASSETS.has(path.extname(entry.name))) continue;
  const from = path.join(entry.parentPath, entry.name);
  const to = path.join(DIST, path.relative(SRC, from));
  wanted.add(to);
  const body = fs.readFileSync(from);
  if (fs.existsSync(to) && fs.readFileSync(to).equals(body)) continue;
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.writeFileSync(to, body);
}
for (const entry of fs.readdirSync(DIST, { recursive: true, withFileTypes: true })) {
  const file = path.join(entry.parentPath, entry.name);
  if (entry.isFile() && ASSETS.has(path.extname(entry.name)) && !wanted.has(file)) fs.rmSync(file);
}
if (tscStatus !== 0) {
  process.stderr.write('build-dist: tsc reported errors\n');
  process.exit(tscStatus ?? 1);
}
