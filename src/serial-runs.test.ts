import { describe, expect, it } from 'vitest';
import { SerialRuns } from './serial-runs.ts';

describe('SerialRuns', () => {
  it('runs one at a time; calls during a run share one more run after it; idle after the last', async () => {
    let started = 0;
    let running = 0;
    let idle = 0;
    const gates: (() => void)[] = [];
    const runs = new SerialRuns(
      async () => {
        const n = ++started;
        expect(++running).toBe(1);
        await new Promise<void>((resolve) => gates.push(resolve));
        running--;
        return n;
      },
      () => idle++,
    );
    const first = runs.run();
    const second = runs.run();
    const third = runs.run();
    await new Promise((r) => setTimeout(r, 5));
    expect(started).toBe(1);
    gates.shift()!();
    expect(await first).toBe(1);
    await new Promise((r) => setTimeout(r, 5));
    expect(started).toBe(2);
    expect(idle).toBe(0);
    gates.shift()!();
    expect(await Promise.all([second, third])).toEqual([2, 2]);
    expect(idle).toBe(1);
    const fourth = runs.run();
    gates.shift()!();
    expect(await fourth).toBe(3);
    expect(idle).toBe(2);
  });

  it('runs again after a failed run', async () => {
    let calls = 0;
    const runs = new SerialRuns(async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 5));
      if (calls === 1) throw new Error('first fails');
      return calls;
    });
    const failing = runs.run();
    const after = runs.run();
    await expect(failing).rejects.toThrow('first fails');
    expect(await after).toBe(2);
  });
});
