/**
 * The README's two commands are all a machine with Node and npm needs (issue 15, point 10): CI runs
 * exactly them, and `npm test` (scripts/test.mjs) provides the system packages its tests use, or,
 * when it cannot install them, names them and stops before running anything.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-test-command-'));

afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe('the test command', () => {
  it('is what CI runs: .ci/run is exactly the README quick start`s npm ci and npm test', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const quickStart = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('\n## ', readme.indexOf('## Quick start') + 1));
    const documented = commands(quickStart).filter((c) => c.startsWith('npm '));
    expect(documented).toEqual(['npm ci', 'npm start', 'npm test']);
    const ci = commands(fs.readFileSync(path.join(ROOT, '.ci/run'), 'utf8')).filter((c) => !/^(set|cd) /.test(c));
    expect(ci).toEqual(['npm ci', 'npm test']);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.scripts.test).toBe('node scripts/test.mjs');
  });

  it('names the system packages it misses and stops when it may not install them', () => {
    // An unprivileged user cannot apt-get; a copy of the script in a directory it may read.
    const script = path.join(scratch, 'scripts', 'test.mjs');
    fs.mkdirSync(path.dirname(script), { recursive: true });
    fs.copyFileSync(path.join(ROOT, 'scripts/test.mjs'), script);
    fs.chmodSync(scratch, 0o755);
    const env = { ...process.env, CHROMIUM_PATH: path.join(scratch, 'no-chromium') };
    const asUser = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath] : [process.execPath];
    const result = spawnSync(asUser[0]!, [...asUser.slice(1), script], { cwd: scratch, env, encoding: 'utf8', timeout: 30_000 });
    expect(result.status, result.stderr).toBe(1);
    expect(result.stderr).toContain('the tests need chromium (Debian packages), which are not installed');
    expect(result.stderr).toContain('apt-get install -y --no-install-recommends chromium');
    expect(result.stderr).toContain('npm run test:vitest');
    // Nothing ran: neither typecheck nor any suite.
    expect(result.stdout).toBe('');
  });
});

/** The shell commands of a text's code blocks (or of a script): one per line, comments and continuations dropped. */
function commands(text: string): string[] {
  const blocks = text.includes('```') ? [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!) : [text];
  return blocks
    .flatMap((block) => block.replace(/\\\n/g, ' ').split('\n'))
    .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
    .filter((line) => line !== '');
}
