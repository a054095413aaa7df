/** What a verification finds (docs/bundle.md "Verifier output"): the report and its text form. */

/**
 * - `modified`: a leaf differs from what was committed or signed (event body, salt or envelope).
 * - `missing`: a leaf index is absent, or a leaf's payload is gone and no purge or erasure record covers it.
 * - `inserted`: a leaf that the signed tree does not have (duplicate index, extra leaf).
 * - `reordered`: leaves out of their signed order.
 * - `truncated`: fewer leaves than a signed checkpoint (or the header) says there are.
 * - `forked`: two signed views of the log disagree (checkpoints, or the saved checkpoint).
 * - `bad_signature`: a checkpoint not validly signed by a trusted key, or no trusted checkpoint at all.
 * - `malformed`: a line that is not part of the bundle format.
 * - `policy_violation`: a purge record the retention policy did not allow, or payloads gone beyond
 *   what their purge record covers (more than its count, or received after its cutoff).
 */
export type FindingKind = 'modified' | 'missing' | 'inserted' | 'reordered' | 'truncated' | 'forked' | 'bad_signature' | 'malformed' | 'policy_violation';

/** A purge record read, and what it accounts for. */
export interface PurgedRange {
  /** Index of the `retention.purged` record. */
  record: number;
  /** [start, end): the leaf indices it covers. */
  range: [number, number];
  /** Payloads it purged, as it states. */
  count: number;
  /** Payloads gone in its range (fewer than `count` while its removal is under way). */
  removed: number;
  /** Events received before this time were purged. */
  cutoff: string;
}

export interface Finding {
  kind: FindingKind;
  /**
   * The first bad leaf index: exact when the leaf itself shows the problem; when only checkpoint
   * roots disagree, the start of `range`, the leaves between the last root that matched and the
   * first that did not. Null when no leaf is at fault (a bad signature).
   */
  index: number | null;
  /** [start, end): the first bad leaf lies in this range. */
  range?: [number, number];
  /** Size of the checkpoint concerned, if any. */
  checkpoint_size?: number;
  /** 1-based line of the bundle where it showed (0: the saved checkpoint or the bundle as a whole). */
  line: number;
  detail: string;
}

export interface VerifyReport {
  ok: boolean;
  tenant: string | null;
  origin: string | null;
  /** Leaf lines read. */
  leaves: number;
  /** Root of the tree over the leaves read. */
  root: string | null;
  checkpoints: { total: number; verified: number; latest: { size: number; root: string } | null };
  /** Leaves after the largest verified checkpoint: consistent, but not yet signed. */
  unsigned_leaves: number;
  /** Leaves whose payload was purged (no event, no salt). */
  purged: number;
  /** The purge records, in index order: the ranges purged by policy. */
  purged_ranges: PurgedRange[];
  /** Leaves whose payload an erasure record later in the ledger lists as erased (counted in `purged` too). */
  erased: number;
  /** The result against `--since-checkpoint`, if given. */
  since: { size: number; root: string; ok: boolean } | null;
  /** The finding with the smallest index (then the earliest), or null. */
  first: Finding | null;
  findings: Finding[];
  /** More findings existed than were kept. */
  findings_truncated: boolean;
}

/**
 * The finding that names the first bad leaf: the smallest index, where a range is set aside when a
 * finding inside it is more precise (an exact index, or a narrower range), as several checks often
 * see one fault at different resolutions. Findings without an index come last.
 */
export function firstFinding(findings: readonly Finding[]): Finding | null {
  const width = (f: Finding) => (f.range ? f.range[1] - f.range[0] : 0);
  const precise = findings.filter(
    (f) => !f.range || !findings.some((g) => g !== f && g.index !== null && g.index >= f.range![0] && g.index < f.range![1] && width(g) < width(f)),
  );
  return precise.reduce<Finding | null>((best, f) => (best === null || (f.index ?? Infinity) < (best.index ?? Infinity) ? f : best), null);
}

/** The report as a few lines for people. */
export function formatReport(report: VerifyReport): string {
  const lines: string[] = [];
  const cp = report.checkpoints;
  lines.push(
    `${report.ok ? 'OK' : 'FAILED'}: ${report.origin ?? 'unknown log'}, ${report.leaves} leaves, ${cp.verified}/${cp.total} checkpoints verified` +
      (cp.latest ? `, latest size ${cp.latest.size}` : ''),
  );
  if (report.unsigned_leaves > 0) lines.push(`note: ${report.unsigned_leaves} leaves after the latest checkpoint are not yet signed`);
  if (report.purged_ranges.length > 0) {
    const [first, last] = [report.purged_ranges[0]!, report.purged_ranges.at(-1)!];
    lines.push(
      `purged by policy: ${report.purged} payloads, in ${report.purged_ranges.length} purge records (${first.record}..${last.record}) covering leaves [${first.range[0]}, ${last.range[1]})`,
    );
  }
  if (report.erased > 0) lines.push(`erased: ${report.erased} payloads, each listed by an erasure record`);
  if (report.since) lines.push(`saved checkpoint (size ${report.since.size}): ${report.since.ok ? 'consistent' : 'NOT consistent'}`);
  if (report.first) lines.push(`first problem: ${describe(report.first)}`);
  for (const finding of report.findings) if (finding !== report.first) lines.push(`  also: ${describe(finding)}`);
  if (report.findings_truncated) lines.push('  (more findings not shown)');
  return `${lines.join('\n')}\n`;
}

function describe(f: Finding): string {
  const where = f.index === null ? '' : f.range ? ` at index ${f.index} (somewhere in [${f.range[0]}, ${f.range[1]}))` : ` at index ${f.index}`;
  return `${f.kind}${where}${f.line > 0 ? ` (line ${f.line})` : ''}: ${f.detail}`;
}
