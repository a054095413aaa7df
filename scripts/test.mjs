#!/usr/bin/env node
// `npm test`: everything the project checks, on a machine with only Node and npm after `npm ci`.
// First the programs the tests run for real: rsyslog with GnuTLS and openssl (the syslog stream
// tests), Debian's Chromium (the console's end-to-end tests). Missing ones are installed with
// apt-get when this runs as root on Debian; otherwise it names them and stops. Then typecheck, lint,
// the vitest suite and the end-to-end suite; the last line counts the tests of both suites.
// `npm run test:vitest` runs the vitest suite alone (`npx vitest run <file>` one file).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Debian package → whether what the tests need from it is there. */
const NEEDED = {
  rsyslog: () => ['/usr/sbin/rsyslogd', '/sbin/rsyslogd'].some((p) => fs.existsSync(p)),
  'rsyslog-gnutls': () => debianPackageInstalled('rsyslog-gnutls'),
  openssl: () => onPath('openssl'),
  chromium: () => fs.existsSync(chromium),
};

ensureSystemPackages();
step('typecheck', 'npm', ['run', '--silent', 'typecheck']);
step('lint', 'npm', ['run', '--silent', 'lint']);
const reports = fs.mkdtempSync(path.join(os.tmpdir(), 'trailproof-test-'));
// The suites' temporary files (data dirs, certificates, archives, browser profiles) go under the
// run's own directory, removed with it, so no run leaves any behind.
// Open to all like /tmp: embedded PostgreSQL runs as another user under root, in data dirs there.
const scratch = path.join(reports, 'tmp');
fs.mkdirSync(scratch);
fs.chmodSync(reports, 0o755);
fs.chmodSync(scratch, 0o1777);
const suites = [
  ['vitest suite', []],
  ['end-to-end suite', ['--config', 'test/e2e/vitest.config.ts']],
];
let passed = 0;
let failed = 0;
let failedSuites = 0;
for (const [i, [name, args]] of suites.entries()) {
  const report = path.join(reports, `${i}.json`);
  const ok = run(name, 'npx', ['vitest', 'run', ...args, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`], {
    ...process.env,
    TMPDIR: scratch,
  });
  if (!ok) failedSuites++;
  const counts = readCounts(report);
  passed += counts.passed;
  failed += counts.failed;
}
fs.rmSync(reports, { recursive: true, force: true });
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(failedSuites > 0 || failed > 0 ? 1 : 0);

function ensureSystemPackages() {
  const missing = Object.keys(NEEDED).filter((pkg) => !NEEDED[pkg]());
  if (missing.length === 0) return;
  const install = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0 || !onPath('apt-get')) {
    process.stderr.write(
      `npm test: the tests need ${missing.join(', ')} (Debian packages), which are not installed.\n` +
        `Install them (as root: apt-get update && ${install}), then run npm test again;\n` +
        'or run the vitest suite alone with `npm run test:vitest` (the tests that need them will fail).\n',
    );
    process.exit(1);
  }
  process.stdout.write(`npm test: installing ${missing.join(', ')} with apt-get\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  step('apt-get update', 'apt-get', ['update'], env);
  step('apt-get install', 'apt-get', install.split(' ').slice(1), env);
  const still = missing.filter((pkg) => !NEEDED[pkg]());
  if (still.length > 0) {
    process.stderr.write(`npm test: apt-get ran, but ${still.join(', ')} is still missing\n`);
    process.exit(1);
  }
}

/** Runs a step that must pass before anything else runs. */
function step(name, command, args, env = process.env) {
  if (!run(name, command, args, env)) process.exit(1);
}

function run(name, command, args, env = process.env) {
  process.stdout.write(`\n> ${name}: ${command} ${args.join(' ')}\n`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env });
  if (result.status === 0) return true;
  process.stderr.write(`npm test: ${name} failed (${result.error?.message ?? `exit code ${result.status ?? result.signal}`})\n`);
  return false;
}

/** The test counts of a vitest JSON report; none when the run ended before writing one. */
function readCounts(file) {
  try {
    const report = JSON.parse(fs.readFileSync(file, 'utf8'));
    return { passed: report.numPassedTests ?? 0, failed: report.numFailedTests ?? 0 };
  } catch {
    return { passed: 0, failed: 0 };
  }
}

function debianPackageInstalled(pkg) {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.includes('install ok installed');
}

function onPath(program) {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir && fs.existsSync(path.join(dir, program)));
}
