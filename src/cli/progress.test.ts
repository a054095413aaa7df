import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProgressLine } from './progress.ts';

describe('ProgressLine', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.useRealTimers();
  });

  it('draws on a terminal at most every 200 ms, and clears its line', () => {
    vi.useFakeTimers();
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((text) => written.push(String(text)) > 0);
    let n = 0;
    const line = new ProgressLine(() => `step ${++n}`, true);
    line.update();
    line.update();
    vi.advanceTimersByTime(250);
    line.update();
    line.clear();
    expect(written).toEqual(['\r\x1b[Kstep 1', '\r\x1b[Kstep 2', '\r\x1b[K']);
  });

  it('writes nothing when standard error is not a terminal', () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const line = new ProgressLine(() => 'never', false);
    line.update();
    line.clear();
    expect(write).not.toHaveBeenCalled();
  });
});
