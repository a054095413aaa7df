#!/usr/bin/env node
// The `trailproof` command: the CLI compiled from src/ into dist/ by `npm run build`, which `npm ci`
// runs in a checkout and which the published package ships already done.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('trailproof: dist/ is not built; run `npm run build` in the checkout\n');
  process.exit(1);
}
await import(main.href);
