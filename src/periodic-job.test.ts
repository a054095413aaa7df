import { describe, expect, it } from 'vitest';
import { PeriodicJob } from './periodic-job.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `done()` holds (the machine may be slow: no fixed sleeps for progress). */
async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(5);
  }
}

describe('PeriodicJob', () => {
  it('runs after the first delay, then again after each run ends, never two at once', async () => {
    let running = 0;
    let most = 0;
    let runs = 0;
    const job = new PeriodicJob(
      async () => {
        running++;
        most = Math.max(most, running);
        await sleep(20);
        running--;
        runs++;
      },
      { intervalMs: 5, initialDelayMs: 30, onError: () => {} },
    );
    job.start();
    await sleep(15);
    expect(runs).toBe(0);
    await until(() => runs >= 3);
    await job.stop();
    expect(most).toBe(1);
  });

  it('reports a failed run and goes on; stop waits for the run under way and ends the schedule', async () => {
    const errors: unknown[] = [];
    let runs = 0;
    let finished = 0;
    const job = new PeriodicJob(
      async () => {
        runs++;
        await sleep(30);
        finished++;
        if (runs === 1) throw new Error('first run fails');
      },
      { intervalMs: 1, initialDelayMs: 0, onError: (err) => errors.push(err) },
    );
    job.start();
    await until(() => runs >= 2);
    await job.stop();
    expect(errors).toHaveLength(1);
    expect(finished).toBe(runs);
    await sleep(40);
    expect(finished).toBe(runs);
  });

  it('an interval of 0 disables it', async () => {
    let runs = 0;
    const job = new PeriodicJob(
      async () => {
        runs++;
      },
      { intervalMs: 0, initialDelayMs: 0, onError: () => {} },
    );
    job.start();
    await sleep(20);
    await job.stop();
    expect(runs).toBe(0);
  });
});
