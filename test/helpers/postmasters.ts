/** The embedded PostgreSQL of a data dir seen from outside, through /proc: what is running, what is left. */
import fs from 'node:fs/promises';
import path from 'node:path';

/** Live processes started as `postgres -D <pgDir>` (the postmaster of that cluster). */
export async function postmastersOf(pgDir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const args = (await fs.readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0');
    const d = args.indexOf('-D');
    if (d >= 0 && args[d + 1] === pgDir && path.basename(args[0] ?? '') === 'postgres' && (await isAlive(Number(entry)))) pids.push(Number(entry));
  }
  return pids;
}

/** The pid in the cluster's postmaster.pid. */
export async function postmasterPid(pgDir: string): Promise<number> {
  const text = await fs.readFile(path.join(pgDir, 'postmaster.pid'), 'utf8');
  return Number(text.split('\n')[0]);
}

export async function isAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie is dead for our purposes.
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && !/^\d+ \(.*\) Z/.test(stat);
}

/** Stops whatever postmaster of `pgDir` a failed test left running ("fast" shutdown, then SIGKILL). */
export async function stopPostmasters(pgDir: string): Promise<void> {
  for (const pid of await postmastersOf(pgDir)) {
    process.kill(pid, 'SIGINT');
    await waitUntil(async () => !(await isAlive(pid)), 20_000).catch(() => process.kill(pid, 'SIGKILL'));
  }
}

export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
