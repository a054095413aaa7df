/**
 * The erasure's service record (docs/lifecycle.md "Erasure"): what `erasure.completed` says in its
 * `metadata`, shared by the lifecycle that writes it, the database function that removes what it
 * lists (migration 0069) and the verifier that accepts the payload-less leaves it lists.
 */

export const ERASURE_ACTION = 'erasure.completed';

/** Leaf indices one record lists at most (its metadata stays under the 16 KiB limit); a longer erasure gets several records. */
export const ERASURE_RECORD_INDICES = 800;

/** Metadata of an `erasure.completed` record. */
export interface ErasureRecord {
  /** The erasure's id (`era_…`); a long erasure's records share it. */
  erasure: string;
  /** What kind of subject was erased, and its keyed hash (never the subject itself). */
  subject: { kind: 'actor' | 'target'; hash: string };
  reason: string;
  /** When it was decided (the database's clock): the legal holds in force then were checked. */
  decided_at: string;
  /** Leaf indices whose payloads it erases, ascending, all before the record itself. */
  indices: number[];
  /** This record's part of the erasure, from 1, and how many records it has. */
  part: number;
  parts: number;
}

/** The record's metadata if it is a well-formed erasure record, else undefined. */
export function parseErasureRecord(metadata: unknown): ErasureRecord | undefined {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) return undefined;
  const m = metadata as Record<string, unknown>;
  const natural = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  const subject = m.subject as Record<string, unknown> | null | undefined;
  if (
    typeof m.erasure !== 'string' ||
    typeof subject !== 'object' ||
    subject === null ||
    (subject.kind !== 'actor' && subject.kind !== 'target') ||
    typeof subject.hash !== 'string' ||
    typeof m.reason !== 'string' ||
    typeof m.decided_at !== 'string' ||
    Number.isNaN(Date.parse(m.decided_at)) ||
    !Array.isArray(m.indices) ||
    !m.indices.every(natural) ||
    !m.indices.every((v, i, all) => i === 0 || all[i - 1]! < v) ||
    !natural(m.part) ||
    !natural(m.parts) ||
    m.part < 1 ||
    m.part > m.parts
  )
    return undefined;
  return m as unknown as ErasureRecord;
}
