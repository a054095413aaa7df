/**
 * The verifier's account of purges (docs/lifecycle.md "Verifying purges"): a leaf whose payload is
 * gone is accepted only when a `retention.purged` record later in the ledger covers it and the
 * policy in force allowed that record. A purge record comes after the leaves it covers, so the
 * payload-less leaves wait here, in index order, until the record that covers them is read.
 *
 * A purge record is allowed when it continues the chain (`previous` names the previous purge
 * record and its range starts where that one's ended), states the policy of the latest
 * `retention.updated` record before it, applies that policy's days, was decided before it was
 * recorded, and its cutoff is no later than the decision less those days. The payloads removed in
 * its range must all have been received before the cutoff and be no more than its count (fewer
 * while a removal is still under way). Anything else is reported: a payload gone without a record
 * as `missing`, a record the policy did not allow or a removal beyond one as `policy_violation`.
 *
 * An `erasure.completed` record (docs/lifecycle.md "Erasure") lists the indices it erased: those
 * waiting here are covered by it and leave, whatever their receipt time; a later purge range
 * neither counts nor needs them.
 */
import { ERASURE_ACTION, parseErasureRecord } from '../event/erasure-records.ts';
import { parsePolicyRecord, parsePurgeRecord, POLICY_ACTION, PURGE_ACTION, type PolicyRecord } from '../event/lifecycle-records.ts';
import { SERVICE_SOURCE } from '../event/service-records.ts';
import type { Finding, FindingKind, PurgedRange } from './report.ts';

const DAY_MS = 86_400_000;

/**
 * Pending segments kept exact: each holds consecutive payload-less leaves received at one instant
 * (one ingest batch). Beyond this many, consecutive leaves merge into segments that keep only their
 * latest receipt, and a cutoff is then judged on a split segment only where that says enough.
 */
const EXACT_SEGMENTS = 1 << 21;

export type PurgeFinding = (kind: FindingKind, index: number, detail: string, extra?: Partial<Finding>) => void;

/** Whether a committed event is an erasure record (PurgeCheck.erasure reads it). */
export function isErasureRecord(event: Record<string, unknown>): boolean {
  return event.source === SERVICE_SOURCE && event.action === ERASURE_ACTION;
}

/** Whether a committed event is one of the records this check reads (by its action's namespace). */
export function isRetentionRecord(event: Record<string, unknown>): boolean {
  return event.source === SERVICE_SOURCE && (event.action === PURGE_ACTION || event.action === POLICY_ACTION);
}

export class PurgeCheck {
  readonly #report: PurgeFinding;
  /** Payload-less leaves not yet covered, as segments [start, end) with the receipt time (ms) of their leaves. */
  #starts: number[] = [];
  #ends: number[] = [];
  #received: number[] = [];
  /** False for a segment merged from leaves received at different times (its time is the latest). */
  #exact: boolean[] = [];
  #head = 0;
  #erased = 0;
  #policy: PolicyRecord | undefined;
  #last: { index: number; rangeEnd: number } | undefined;
  readonly #ranges: PurgedRange[] = [];

  constructor(report: PurgeFinding) {
    this.#report = report;
  }

  /** The purge records read, with the payloads gone in each range. */
  get ranges(): PurgedRange[] {
    return this.#ranges;
  }

  /** A leaf whose payload (event and salt) is gone; leaves come in index order. */
  payloadless(index: number, receivedAt: string): void {
    const received = Date.parse(receivedAt);
    const last = this.#starts.length - 1;
    if (last >= this.#head && this.#ends[last] === index) {
      if (this.#received[last] === received) {
        this.#ends[last] = index + 1;
        return;
      }
      if (this.#starts.length - this.#head >= EXACT_SEGMENTS) {
        this.#ends[last] = index + 1;
        this.#received[last] = Math.max(this.#received[last]!, Number.isNaN(received) ? Infinity : received);
        this.#exact[last] = false;
        return;
      }
    }
    this.#starts.push(index);
    this.#ends.push(index + 1);
    // An unreadable time can be before no cutoff.
    this.#received.push(Number.isNaN(received) ? Infinity : received);
    this.#exact.push(true);
  }

  /** A committed service record of the retention namespace (isRetentionRecord) at `index`. */
  record(index: number, receivedAt: string, event: Record<string, unknown>): void {
    if (event.action === POLICY_ACTION) {
      const policy = parsePolicyRecord(event.metadata);
      if (policy) this.#policy = policy;
      else this.#report('policy_violation', index, 'a retention.updated record whose policy is malformed');
      return;
    }
    const record = parsePurgeRecord(event.metadata);
    if (!record) {
      this.#report('policy_violation', index, 'a retention.purged record whose metadata is malformed');
      return;
    }
    const violation = (detail: string) => this.#report('policy_violation', index, `purge record ${index}: ${detail}`);
    const previous = this.#last?.index ?? null;
    const expectedStart = this.#last?.rangeEnd ?? 0;
    if (record.previous !== previous) violation(`names ${record.previous ?? 'no'} previous record; the previous purge record is ${previous ?? 'none'}`);
    if (record.range_start !== expectedStart) violation(`its range starts at ${record.range_start}; the previous purge ended at ${expectedStart}`);
    if (record.range_end > index) violation(`its range [${record.range_start}, ${record.range_end}) reaches past the record itself`);
    const policy = this.#policy;
    if (!policy) {
      violation('no retention.updated record before it states the policy in force');
    } else {
      if (!samePolicy(policy, record.policy)) violation(`states the policy ${describePolicy(record.policy)}; the policy in force is ${describePolicy(policy)}`);
      const after = record.archive_segment !== undefined && policy.hot_days !== undefined ? policy.hot_days : policy.days;
      if (record.purge_after_days !== after) violation(`applies ${record.purge_after_days} days; the policy in force says ${after}`);
      const decided = Date.parse(record.decided_at);
      if (decided > Date.parse(receivedAt)) violation(`decided at ${record.decided_at}, after it was recorded (${receivedAt})`);
      if (Date.parse(record.cutoff) > decided - after * DAY_MS) violation(`its cutoff ${record.cutoff} is later than ${after} days before its decision`);
    }
    const removed = this.#settle(index, record.range_start, record.range_end, Date.parse(record.cutoff));
    if (removed > record.count) violation(`${removed} payloads are gone from its range; it purged ${record.count}`);
    this.#ranges.push({ record: index, range: [record.range_start, record.range_end], count: record.count, removed, cutoff: record.cutoff });
    this.#last = { index, rangeEnd: record.range_end };
  }

  /** Payload-less leaves covered by erasure records. */
  get erased(): number {
    return this.#erased;
  }

  /** A committed `erasure.completed` record at `index`: the leaves it lists that wait here are covered. */
  erasure(index: number, event: Record<string, unknown>): void {
    const record = parseErasureRecord(event.metadata);
    if (!record) {
      this.#report('policy_violation', index, 'an erasure.completed record whose metadata is malformed');
      return;
    }
    const beyond = record.indices.find((i) => i >= index);
    if (beyond !== undefined) this.#report('policy_violation', index, `erasure record ${index} lists leaf ${beyond}, which is not before it`);
    this.#erased += this.#take(record.indices.filter((i) => i < index));
  }

  /** The bundle ended: payloads still waiting for a record were removed without one. */
  finish(): void {
    for (let i = this.#head; i < this.#starts.length; i++) this.#uncovered(this.#starts[i]!, this.#ends[i]!);
    this.#head = this.#starts.length;
  }

  /**
   * Takes the pending segments below `end`: those below `start` no record covers;
   * those in [start, end) are the record's, each received before `cutoff`. Returns how many are in range.
   */
  #settle(index: number, start: number, end: number, cutoff: number): number {
    let removed = 0;
    let late: number | undefined;
    while (this.#head < this.#starts.length && this.#starts[this.#head]! < end) {
      const i = this.#head;
      const s = this.#starts[i]!;
      const e = Math.min(this.#ends[i]!, end);
      if (s < start) this.#uncovered(s, Math.min(e, start));
      const inRange = Math.max(0, e - Math.max(s, start));
      removed += inRange;
      const split = e < this.#ends[i]!;
      // A merged segment cut in two says nothing about its lower part's latest receipt.
      if (inRange > 0 && late === undefined && this.#received[i]! >= cutoff && (this.#exact[i] || !split)) late = Math.max(s, start);
      if (split) {
        this.#starts[i] = e;
        break;
      }
      this.#head += 1;
    }
    if (late !== undefined) {
      this.#report('policy_violation', late, `the payload of leaf ${late} is gone, but it was received after the cutoff of purge record ${index}`);
    }
    this.#compact();
    return removed;
  }

  /** Takes these indices (ascending) out of the pending segments; returns how many were pending. */
  #take(indices: number[]): number {
    const [starts, ends, received, exact]: [number[], number[], number[], boolean[]] = [[], [], [], []];
    let j = 0;
    let taken = 0;
    for (let i = this.#head; i < this.#starts.length; i++) {
      let s = this.#starts[i]!;
      const e = this.#ends[i]!;
      const keep = (to: number) => {
        starts.push(s);
        ends.push(to);
        received.push(this.#received[i]!);
        exact.push(this.#exact[i]!);
      };
      while (j < indices.length && indices[j]! < s) j++;
      while (j < indices.length && indices[j]! < e) {
        const x = indices[j++]!;
        if (x > s) keep(x);
        s = x + 1;
        taken += 1;
      }
      if (s < e) keep(e);
    }
    if (taken > 0) {
      [this.#starts, this.#ends, this.#received, this.#exact, this.#head] = [starts, ends, received, exact, 0];
    }
    return taken;
  }

  #uncovered(start: number, end: number): void {
    const detail =
      end - start === 1
        ? `the payload of leaf ${start} is gone and no purge record covers it`
        : `the payloads of leaves ${start}..${end - 1} are gone and no purge record covers them`;
    this.#report('missing', start, detail, end - start > 1 ? { range: [start, end] } : {});
  }

  /** Drops settled segments once they are most of the arrays. */
  #compact(): void {
    if (this.#head < 1024 || this.#head * 2 < this.#starts.length) return;
    for (const list of [this.#starts, this.#ends, this.#received, this.#exact] as unknown[][]) list.splice(0, this.#head);
    this.#head = 0;
  }
}

function samePolicy(a: PolicyRecord, b: PolicyRecord): boolean {
  return a.days === b.days && a.hot_days === b.hot_days && a.source === b.source;
}

function describePolicy(p: PolicyRecord): string {
  return `${p.days} days${p.hot_days === undefined ? '' : ` (${p.hot_days} hot)`}, ${p.source}`;
}
