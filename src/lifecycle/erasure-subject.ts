/**
 * The subject of an erasure (an actor, or a target) and its keyed hash: how an erasure record, and
 * the archive's key index, name a person without naming them (HMAC under the tenant's erasure key).
 */
import type { KeyedHash } from '../tenant/tenant-keys.ts';

export type ErasureSubject = { actor_id: string } | { target: { type: string; id: string } };

/** The subject's keyed hash, hex. Actors and targets never collide (different prefixes, NUL-separated). */
export function subjectHash(hash: KeyedHash, subject: ErasureSubject): string {
  return hash('actor_id' in subject ? `actor\u0000${subject.actor_id}` : `target\u0000${subject.target.type}\u0000${subject.target.id}`);
}

/** The keyed hashes of every subject of an event: its actor and each target. */
export function eventSubjectHashes(hash: KeyedHash, event: { actor_id: string; targets: { type: string; id: string }[] }): string[] {
  return [subjectHash(hash, { actor_id: event.actor_id }), ...event.targets.map((target) => subjectHash(hash, { target }))];
}
