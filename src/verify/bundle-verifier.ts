/**
 * The verification engine, shared by `trailproof verify` and the self-audit: feed it a bundle's
 * lines in order (docs/bundle.md), then ask for the report. Memory stays constant in the log's
 * size (the tree's frontier, plus a bounded window of recent leaves kept to explain a root that does
 * not match).
 *
 * Trust comes only from the verifier keys given: the bundle's own header and keys are not trusted.
 * For every leaf it recomputes the commitment from salt and event and the leaf hash from the
 * envelope (docs/ledger.md); it builds the tree as it goes and checks each checkpoint's signature
 * and that its root is the root of the leaves read so far; checkpoints are therefore consistent with
 * each other exactly when all of them match. A saved checkpoint (`since`) must match too.
 *
 * Locating the first bad leaf: a leaf that contradicts itself is named exactly (commitment ≠ event,
 * index gap, repeated index). When only a root disagrees, the first bad leaf lies between the last
 * checkpoint that matched and this one; uids are UUIDv7, increasing with the index, so the first
 * leaf out of order in that window is tried as a swapped or inserted leaf, and the tree recomputed
 * under that hypothesis must reproduce the signed root before the verifier says so.
 *
 * The pure per-line work of the fast path (the commitment check and the leaf hash at the line's own
 * index) may be done elsewhere, ahead of time (leaf-precompute.ts, in worker threads): a caller then
 * hands the result to lineBytes with the line, and every decision is still taken here, in order.
 */
import { TrailproofError } from '../errors.ts';
import { parseCheckpoint } from '../ledger/checkpoint.ts';
import { encodeBase64, isNatural, isWellFormed } from '../ledger/encoding.ts';
import * as keyText from '../ledger/key-text.ts';
import type { TreeNode } from '../ledger/merkle.ts';
import { ED25519_SIGNATURE_TYPE, openNote, type NoteVerifier } from '../ledger/note.ts';
import { canonicalJson } from '../ledger/jcs.ts';
import { isLedgerError } from '../ledger/errors.ts';
import { BUNDLE_FORMAT, BUNDLE_VERSION } from '../export/bundle-format.ts';
import { compareUids, LeafHasher, uidOf } from './leaf-hasher.ts';
import { newLeafOffsets, parseLeafLine, type LeafOffsets } from './leaf-line.ts';
import { isErasureRecord, isRetentionRecord, PurgeCheck } from './purge-check.ts';
import { firstFinding, type Finding, type FindingKind, type VerifyReport } from './report.ts';
import { VerifyingTree } from './tree.ts';
import { trustedVerifiers } from './trusted-keys.ts';

export interface VerifierOptions {
  /** Trusted verifier key texts (`name+id+base64`); a key under another name is trusted under the bundle's origin too. */
  keys: readonly string[];
  /** A signed checkpoint saved earlier: the bundle's tree must have its root at its size. */
  since?: string;
  /** Called with every leaf's recomputed hash (the self-audit compares stored ones). */
  onLeaf?: (index: number, leafHash: Buffer) => void;
  /** Called with every completed perfect subtree (level ≥ 1). */
  onNode?: (node: TreeNode) => void;
  /** Findings kept; default 100. */
  maxFindings?: number;
}

/**
 * What the fast path finds for a leaf line, computed from the line's bytes by the same functions
 * elsewhere (leaf-precompute.ts): parseLeafLine read it, commitmentMatches held, and these are the
 * line's index, its key (LeafHasher.keyFromLine) and the leaf hash of that key at that index. Only for
 * lines where all of that is true; any other line is given without one and checked here from scratch.
 */
export interface PrecomputedLeaf {
  /** The tenant whose envelope the key and hash are of; a result for another tenant is ignored. */
  tenant: string;
  index: number;
  key: Buffer;
  /** SHA-256(0x00 || envelope) at `index`. */
  leafHash: Buffer;
}

/** Leaves kept since the last matching checkpoint, to test hypotheses when a root disagrees. */
const WINDOW_LIMIT = 65_536;
/** Out-of-order positions remembered per window. */
const MAX_ANOMALIES = 4;

interface Pending {
  finding: Finding;
  /** The root that checkpoint signed. */
  root: Buffer;
}

const HEX32 = /^[0-9a-f]{64}$/;

export class BundleVerifier {
  readonly #options: VerifierOptions;
  readonly #maxFindings: number;
  readonly #findings: Finding[] = [];
  #findingsTruncated = false;
  #lineNo = 0;
  #header: { tenant: string; origin: string; size: number } | undefined;
  #verifiers: NoteVerifier[] = [];
  #hasher: LeafHasher | undefined;
  #tree: VerifyingTree;
  #ended = false;
  #purged = 0;
  /** Payload-less leaves against the purge records that must cover them. */
  readonly #purges = new PurgeCheck((kind, index, detail, extra) => this.#add(kind, index, detail, undefined, extra));
  /** One more than the largest index read. */
  #claimed = 0;
  #lastIndex = -1;
  /** A structural break (gap, repeat, malformed leaf): roots after it are not comparable. */
  #broken = false;
  #checkpointsTotal = 0;
  #checkpointsVerified = 0;
  #latest: { size: number; root: Buffer } | undefined;
  #largestSigned = 0;
  /** The last checkpoint whose root matched, with the tree's frontier at its size. */
  #good = { size: 0, frontier: [] as Buffer[], root: undefined as Buffer | undefined };
  /** Keys (leaf-hasher.ts) of the leaves since the last matching checkpoint. */
  #window: Buffer[] = [];
  #windowOverflow = false;
  #anomalies: number[] = [];
  #prevUid: Buffer | undefined;
  #prevPrevUid: Buffer | undefined;
  readonly #offsets: LeafOffsets = newLeafOffsets();
  #pending: Pending | undefined;
  #since: { size: number; root: Buffer; ok: boolean | undefined } | undefined;
  /** Checkpoint notes whose signatures were checked elsewhere with this verifier's keys (see notesChecked). */
  #notesChecked: ReadonlySet<string> = new Set();

  constructor(options: VerifierOptions) {
    this.#options = options;
    this.#maxFindings = options.maxFindings ?? 100;
    this.#tree = new VerifyingTree(options.onNode);
    if (options.keys.length === 0) throw new TrailproofError('CONFIG_INVALID', 'at least one verifier key is needed');
    // Malformed keys are the caller's mistake, reported before any line is read.
    for (const key of options.keys) keyText.parseVerifierKey(key, [ED25519_SIGNATURE_TYPE]);
  }

  /**
   * Checkpoint notes, about to be fed, that were opened (openNote) with trusted verifiers made from
   * `keys` under `origin` and held: when those are this verifier's keys and this bundle's origin,
   * their signatures are not checked again. Until the next call. (Verification worker threads check
   * the signatures of the checkpoints in their batches, leaf-precompute.ts.)
   */
  notesChecked(notes: readonly string[], keys: readonly string[], origin: string): void {
    const same =
      this.#header !== undefined &&
      origin === this.#header.origin &&
      keys.length === this.#options.keys.length &&
      keys.every((k, i) => k === this.#options.keys[i]);
    this.#notesChecked = same && notes.length > 0 ? new Set(notes) : new Set();
  }

  /** Leaves read so far. */
  get size(): number {
    return this.#tree.size;
  }

  /** Root of the leaves read so far (the self-audit compares the stored head with it). */
  root(): Buffer {
    return this.#tree.root();
  }

  frontier(): Buffer[] {
    return this.#tree.frontier();
  }

  /** The bundle's tenant, once its header has been read. */
  get tenant(): string | undefined {
    return this.#header?.tenant;
  }

  /** The bundle's origin, once its header has been read. */
  get origin(): string | undefined {
    return this.#header?.origin;
  }

  /**
   * Feeds the line `bytes[start, end)` (UTF-8, without its newline). A leaf line in the writer's
   * spelling is checked on its bytes: the event's bytes are hashed as they are, never decoded.
   * `precomputed`: the fast path's result for this very line, computed elsewhere (see PrecomputedLeaf).
   */
  lineBytes(bytes: Buffer, start: number, end: number, precomputed?: PrecomputedLeaf): void {
    if (this.#hasher && !this.#ended) {
      if (precomputed && precomputed.tenant === this.#header!.tenant) {
        this.#lineNo += 1;
        this.#leaf(precomputed.index, precomputed.key, true, precomputed.leafHash);
        return;
      }
      // Only a match is taken from the fast path: event bytes that hash to the commitment are the
      // committed JCS text, so the line is valid JSON. Anything else gets the full parse, which tells
      // a damaged line (malformed) from an edited event (modified).
      const f = this.#offsets;
      if (parseLeafLine(bytes, start, end, f) && this.#hasher.commitmentMatches(bytes, f)) {
        this.#lineNo += 1;
        this.#leaf(f.index, this.#hasher.keyFromLine(bytes, f), true);
        return;
      }
    }
    this.line(bytes.toString('utf8', start, end));
  }

  /** Feeds one line (without its newline). */
  line(text: string): void {
    this.#lineNo += 1;
    if (this.#ended) {
      if (text !== '') this.#add('malformed', null, 'a line after the end line');
      return;
    }
    if (!this.#header) {
      this.#readHeader(text);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.#malformedLine('not JSON');
      return;
    }
    const type = isObject(value) ? value.type : undefined;
    if (type === 'leaf') this.#slowLeaf(value as Record<string, unknown>);
    else if (type === 'checkpoint') this.#checkpoint(value as Record<string, unknown>);
    else if (type === 'end') this.#ended = true;
    else this.#malformedLine(`unknown line type ${JSON.stringify(type)}`);
  }

  /** Ends the bundle and returns the report. */
  finish(): VerifyReport {
    const size = this.#tree.size;
    if (!this.#header) {
      this.#add('malformed', null, 'no header line: not a Trailproof bundle', 0);
    } else {
      if (this.#largestSigned > this.#claimed) {
        this.#add('truncated', this.#claimed, `a signed checkpoint has ${this.#largestSigned} leaves; the bundle ends after ${this.#claimed}`, 0, {
          checkpoint_size: this.#largestSigned,
        });
      }
      if (this.#since && this.#since.size > this.#claimed) {
        this.#since.ok = false;
        this.#add('truncated', this.#claimed, `the saved checkpoint has ${this.#since.size} leaves; the bundle ends after ${this.#claimed}`, 0, {
          checkpoint_size: this.#since.size,
        });
      }
      if (this.#pending) this.#settlePending();
      this.#purges.finish();
      if (!this.#ended) this.#add('truncated', this.#claimed, 'the bundle has no end line: it was cut short', 0);
      if (size !== this.#header.size) {
        if (size < this.#header.size) this.#add('truncated', size, `the header announces ${this.#header.size} leaves; the bundle has ${size}`, 0);
        else this.#add('inserted', this.#header.size, `the header announces ${this.#header.size} leaves; the bundle has ${size}`, 0);
      }
      if (size > 0 && this.#checkpointsVerified === 0 && !this.#since) {
        this.#add('bad_signature', null, 'no checkpoint signed by a trusted key: nothing proves these leaves', 0);
      }
    }
    const first = firstFinding(this.#findings);
    return {
      ok: this.#findings.length === 0,
      tenant: this.#header?.tenant ?? null,
      origin: this.#header?.origin ?? null,
      leaves: size,
      root: this.#header ? encodeBase64(this.#tree.root()) : null,
      checkpoints: {
        total: this.#checkpointsTotal,
        verified: this.#checkpointsVerified,
        latest: this.#latest ? { size: this.#latest.size, root: encodeBase64(this.#latest.root) } : null,
      },
      unsigned_leaves: Math.max(0, size - (this.#latest?.size ?? 0)),
      purged: this.#purged,
      purged_ranges: this.#purges.ranges,
      erased: this.#purges.erased,
      since: this.#since ? { size: this.#since.size, root: encodeBase64(this.#since.root), ok: this.#since.ok ?? false } : null,
      first,
      findings: this.#findings,
      findings_truncated: this.#findingsTruncated,
    };
  }

  #readHeader(text: string): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    const h = value as Record<string, unknown> | undefined;
    if (!isObject(h) || h.type !== 'header' || h.format !== BUNDLE_FORMAT) {
      this.#add('malformed', null, `the first line is not a ${BUNDLE_FORMAT} header`);
      this.#ended = true;
      return;
    }
    if (h.version !== BUNDLE_VERSION || typeof h.tenant !== 'string' || typeof h.origin !== 'string' || !isNatural(h.size)) {
      this.#add('malformed', null, `unsupported bundle version or header fields (this verifier reads version ${BUNDLE_VERSION})`);
      this.#ended = true;
      return;
    }
    this.#header = { tenant: h.tenant, origin: h.origin, size: h.size };
    this.#hasher = new LeafHasher(h.tenant);
    this.#verifiers = trustedVerifiers(this.#options.keys, h.origin);
    if (this.#options.since !== undefined) this.#openSince(this.#options.since);
  }

  #openSince(note: string): void {
    const opened = this.#open(note);
    if ('error' in opened) {
      this.#add('bad_signature', null, `saved checkpoint: ${opened.error}`, 0);
      return;
    }
    this.#since = { size: opened.size, root: opened.root, ok: undefined };
    if (opened.size === 0) this.#checkSince();
  }

  #slowLeaf(v: Record<string, unknown>): void {
    const { index, uid, received_at: receivedAt, commitment, salt, event } = v;
    const purged = salt === null && event === null;
    if (
      !isNatural(index) ||
      !isWellFormedString(uid) ||
      !isWellFormedString(receivedAt) ||
      typeof commitment !== 'string' ||
      !HEX32.test(commitment) ||
      !(purged || (typeof salt === 'string' && HEX32.test(salt) && isObject(event)))
    ) {
      this.#malformedLine('a leaf line with missing or malformed fields', isNatural(index) ? index : null);
      this.#broken = true;
      return;
    }
    let matches: boolean | null = null;
    if (!purged) {
      try {
        matches = this.#hasher!.commitment(salt as string, canonicalJson(event)).toString('hex') === commitment;
      } catch (err) {
        if (!isLedgerError(err, 'NOT_CANONICAL')) throw err;
        matches = false;
      }
    }
    this.#leaf(index, this.#hasher!.keyFromFields(uid, receivedAt, commitment), matches);
    if (purged) this.#purges.payloadless(index, receivedAt);
    else if (matches && isRetentionRecord(event as Record<string, unknown>)) this.#purges.record(index, receivedAt, event as Record<string, unknown>);
    else if (matches && isErasureRecord(event as Record<string, unknown>)) this.#purges.erasure(index, event as Record<string, unknown>);
  }

  /** One leaf: its key, whether its event matches its commitment (null: no payload), and its leaf hash if already known. */
  #leaf(index: number, key: Buffer, commitmentMatches: boolean | null, knownLeafHash?: Buffer): void {
    const line = this.#lineNo;
    const expected = this.#tree.size;
    if (index !== expected && !this.#broken) {
      this.#broken = true;
      if (index === this.#lastIndex) this.#add('inserted', index, `a second leaf with index ${index}`);
      else if (index > expected)
        this.#add('missing', expected, index === expected + 1 ? `leaf ${expected} is absent` : `leaves ${expected}..${index - 1} are absent`);
      else this.#add('reordered', index, `leaf ${index} comes after leaf ${this.#lastIndex}`);
    }
    if (commitmentMatches === null) {
      this.#purged += 1;
    } else if (!commitmentMatches) {
      this.#add('modified', index, 'the event (or its salt) does not match the commitment in its envelope');
    }
    const leafHash = knownLeafHash ?? this.#hasher!.leafHash(index, key);
    this.#tree.push(leafHash);
    this.#options.onLeaf?.(index, leafHash);
    this.#lastIndex = index;
    this.#claimed = Math.max(this.#claimed, index + 1);
    this.#observeOrder(index, uidOf(key));
    if (this.#window.length < WINDOW_LIMIT) this.#window.push(key);
    else this.#windowOverflow = true;
    if (this.#since && this.#since.size === this.#tree.size) this.#checkSince(line);
  }

  /** UUIDv7 uids grow with the index; the first few positions that break that are remembered as suspects. */
  #observeOrder(index: number, uid: Buffer): void {
    if (this.#prevUid && compareUids(uid, this.#prevUid) < 0 && this.#anomalies.length < MAX_ANOMALIES) {
      // The previous leaf is too late if this one still follows the one before it; else this one is too early.
      this.#anomalies.push(!this.#prevPrevUid || compareUids(uid, this.#prevPrevUid) >= 0 ? index - 1 : index);
    }
    this.#prevPrevUid = this.#prevUid;
    this.#prevUid = uid;
  }

  #checkpoint(v: Record<string, unknown>): void {
    this.#checkpointsTotal += 1;
    if (typeof v.note !== 'string') {
      this.#malformedLine('a checkpoint line without a note');
      return;
    }
    const opened = this.#open(v.note);
    if ('error' in opened) {
      this.#add('bad_signature', null, opened.error, undefined, opened.size === undefined ? {} : { checkpoint_size: opened.size });
      return;
    }
    this.#checkpointsVerified += 1;
    const { size, root } = opened;
    this.#largestSigned = Math.max(this.#largestSigned, size);
    if (!this.#latest || size >= this.#latest.size) this.#latest = { size, root };
    if (size > this.#tree.size || this.#broken) return; // larger: truncation, judged at the end
    if (size < this.#tree.size) {
      this.#add(
        'malformed',
        null,
        `a checkpoint of size ${size} after ${this.#tree.size} leaves: checkpoints must follow the leaf that completes their size`,
        undefined,
        { checkpoint_size: size },
      );
      return;
    }
    const current = this.#tree.root();
    if (current.equals(root)) {
      if (this.#pending) {
        // These leaves are the ones this later checkpoint signed, so an earlier signed root that
        // disagrees with them means the log signed two histories: a fork. When the sizes differ the
        // leaves also changed after the earlier checkpoint (a rewritten database the service went on
        // signing), so the leaf range is reported too.
        const earlier = this.#pending.finding;
        if (earlier.checkpoint_size !== size) this.#settlePending();
        this.#pending = undefined;
        this.#add(
          'forked',
          null,
          `the signed checkpoint of size ${earlier.checkpoint_size} is not a prefix of the signed checkpoint of size ${size}`,
          earlier.line,
          { checkpoint_size: earlier.checkpoint_size! },
        );
      }
      this.#good = { size, frontier: this.#tree.frontier(), root };
      this.#window = [];
      this.#windowOverflow = false;
      this.#anomalies = [];
      return;
    }
    if (this.#good.size === size && this.#good.root) {
      this.#add('forked', null, `two checkpoints of size ${size} signed with different roots`, undefined, { checkpoint_size: size });
      return;
    }
    if (!this.#pending) {
      this.#pending = {
        finding: {
          kind: 'modified',
          index: this.#good.size,
          range: [this.#good.size, size],
          checkpoint_size: size,
          line: this.#lineNo,
          detail: `the leaves do not hash to the signed root of size ${size}`,
        },
        root,
      };
    }
  }

  #checkSince(line = 0): void {
    const since = this.#since!;
    since.ok = this.#tree.root().equals(since.root);
    if (since.ok || this.#broken) return;
    // The bundle's own checkpoints agree with its leaves, so they cannot say where the two histories part.
    const start = 0;
    this.#add('forked', start, `the tree of size ${since.size} does not have the saved checkpoint's root: this log is not an extension of it`, line, {
      range: [start, since.size],
      checkpoint_size: since.size,
    });
  }

  /**
   * A root disagreed and no later checkpoint showed the log itself forked: say which leaf, if a
   * hypothesis built from the out-of-order suspects reproduces the signed root.
   */
  #settlePending(): void {
    const { finding, root } = this.#pending!;
    this.#pending = undefined;
    const [start, end] = finding.range!;
    const hypothesis = this.#windowOverflow ? undefined : this.#explain(start, end, root);
    if (hypothesis) {
      this.#push({ ...finding, kind: hypothesis.kind, index: hypothesis.index, detail: hypothesis.detail });
      return;
    }
    // A leaf already named exactly in this range is the better answer than the range.
    if (this.#findings.some((f) => f.kind === 'modified' && f.index !== null && f.index >= start && f.index < end)) return;
    this.#push(finding);
  }

  #explain(start: number, end: number, signed: Buffer): { kind: FindingKind; index: number; detail: string } | undefined {
    const window = this.#window;
    const at = (position: number): Buffer | undefined => window[position - start];
    const rootWith = (pick: (position: number) => Buffer | undefined): boolean => {
      const tree = VerifyingTree.from(start, this.#good.frontier);
      for (let p = start; p < end; p++) {
        const key = pick(p);
        if (!key) return false;
        tree.push(this.#hasher!.leafHash(p, key));
      }
      return tree.root().equals(signed);
    };
    const suspects = [...new Set(this.#anomalies.flatMap((a) => [a - 1, a, a + 1]))].filter((p) => p >= start);
    for (const k of suspects) {
      if (k < end && rootWith((p) => at(p < k ? p : p + 1))) {
        return { kind: 'inserted', index: k, detail: `leaf ${k} is not in the signed tree: without it, the leaves hash to the signed root of size ${end}` };
      }
    }
    for (const k of suspects) {
      for (const l of suspects) {
        if (k < l && k < end && rootWith((p) => at(p === k ? l : p === l ? k : p))) {
          return { kind: 'reordered', index: k, detail: `leaves ${k} and ${l} are swapped: exchanged back, the leaves hash to the signed root of size ${end}` };
        }
      }
    }
    return undefined;
  }

  /** Opens a signed checkpoint of this bundle's log with the trusted keys. */
  #open(note: string): { size: number; root: Buffer } | { error: string; size?: number } {
    let text: string;
    try {
      text = openNote(note, this.#verifiers, this.#notesChecked.has(note)).text;
    } catch (err) {
      if (!isLedgerError(err)) throw err;
      const size = sizeOf(note);
      const unknown = err.code === 'UNKNOWN_KEY';
      return {
        error: unknown ? 'the checkpoint is not signed by any trusted key' : `the checkpoint's signature does not verify (${err.message})`,
        ...(size === undefined ? {} : { size }),
      };
    }
    let checkpoint: ReturnType<typeof parseCheckpoint>;
    try {
      checkpoint = parseCheckpoint(text);
    } catch (err) {
      return { error: (err as Error).message };
    }
    if (checkpoint.origin !== this.#header!.origin) {
      return { error: `the checkpoint is for another log (${JSON.stringify(checkpoint.origin)})`, size: checkpoint.size };
    }
    return { size: checkpoint.size, root: checkpoint.root };
  }

  #malformedLine(detail: string, index: number | null = null): void {
    this.#add('malformed', index, detail);
  }

  #add(kind: FindingKind, index: number | null, detail: string, line = this.#lineNo, extra: Partial<Finding> = {}): void {
    this.#push({ kind, index, line, detail, ...extra });
  }

  #push(finding: Finding): void {
    if (this.#findings.length >= this.#maxFindings) {
      this.#findingsTruncated = true;
      return;
    }
    this.#findings.push(finding);
  }
}

/** The size line of a checkpoint note, for reporting a checkpoint that failed to open. */
function sizeOf(note: string): number | undefined {
  const line = note.split('\n')[1];
  return line !== undefined && /^(0|[1-9][0-9]{0,15})$/.test(line) ? Number(line) : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isWellFormedString(value: unknown): value is string {
  return typeof value === 'string' && isWellFormed(value);
}
