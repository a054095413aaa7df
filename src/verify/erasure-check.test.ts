/**
 * The verifier's account of erasures (purge-check.ts `erasure`): payload-less leaves an erasure
 * record lists are covered, whatever their receipt time; the rest still need a purge record, and a
 * purge range counts only the payloads no erasure took.
 */
import { describe, expect, it } from 'vitest';
import type { FindingKind } from './report.ts';
import { PurgeCheck } from './purge-check.ts';

const OLD = '2026-01-01T00:00:00.000Z';
const NOW = '2026-03-01T00:00:00.000Z';

function check() {
  const findings: { kind: FindingKind; index: number; detail: string }[] = [];
  return { purges: new PurgeCheck((kind, index, detail) => findings.push({ kind, index, detail })), findings };
}

const erasure = (indices: number[], extra: Record<string, unknown> = {}) => ({
  source: 'trailproof',
  action: 'erasure.completed',
  metadata: { erasure: 'era_1', subject: { kind: 'actor', hash: 'ab' }, reason: 'r', decided_at: NOW, indices, part: 1, parts: 1, ...extra },
});

describe('erasure records in the verifier', () => {
  it('cover the payload-less leaves they list; a payload gone without one is missing', () => {
    const { purges, findings } = check();
    for (const index of [2, 3, 5]) purges.payloadless(index, NOW);
    purges.erasure(7, erasure([2, 3, 6]));
    purges.finish();
    expect(purges.erased).toBe(2);
    expect(findings).toEqual([{ kind: 'missing', index: 5, detail: 'the payload of leaf 5 is gone and no purge record covers it' }]);
  });

  it('take their leaves out of a later purge range, which counts only the rest', () => {
    const run = (erased: number[]) => {
      const { purges, findings } = check();
      for (let index = 0; index < 5; index++) purges.payloadless(index, OLD);
      purges.erasure(6, erasure(erased));
      purges.record(7, OLD, { source: 'trailproof', action: 'retention.updated', metadata: { days: 10, source: 'tenant' } });
      purges.record(8, NOW, {
        source: 'trailproof',
        action: 'retention.purged',
        metadata: {
          range_start: 0,
          range_end: 5,
          count: 4,
          cutoff: '2026-02-01T00:00:00.000Z',
          decided_at: NOW,
          policy: { days: 10, source: 'tenant' },
          purge_after_days: 10,
          previous: null,
        },
      });
      purges.finish();
      return { findings, ranges: purges.ranges };
    };
    expect(run([1])).toMatchObject({ findings: [], ranges: [{ removed: 4, count: 4 }] });
    // Without the erasure, five payloads are gone from a range that purged four.
    expect(run([]).findings).toMatchObject([{ kind: 'policy_violation', index: 8 }]);
  });

  it('report a malformed record, or one listing a leaf not before it, as a policy violation', () => {
    const { purges, findings } = check();
    purges.payloadless(1, NOW);
    purges.erasure(4, erasure([1], { subject: 'someone' }));
    purges.erasure(5, erasure([1, 5]));
    purges.finish();
    expect(findings.map((f) => [f.kind, f.index])).toEqual([
      ['policy_violation', 4],
      ['policy_violation', 5],
    ]);
    expect(purges.erased).toBe(1);
  });
});
