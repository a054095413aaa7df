/**
 * A worker thread of leaf-pool.ts: precomputes batches of lines (leaf-precompute.ts) for one tenant at
 * a time, checking checkpoint signatures with the keys and origin each request names.
 */
import { parentPort } from 'node:worker_threads';
import { openNote } from '../ledger/note.ts';
import { LeafHasher } from './leaf-hasher.ts';
import { precomputeBatch, type NoteCheck } from './leaf-precompute.ts';
import type { BatchRequest, BatchResponse, NotesContext } from './leaf-pool.ts';
import { trustedVerifiers } from './trusted-keys.ts';

let hasher: { tenant: string; hasher: LeafHasher } | undefined;
let checker: { context: string; check: NoteCheck | undefined } | undefined;

parentPort!.on('message', (request: BatchRequest) => {
  if (hasher?.tenant !== request.tenant) hasher = { tenant: request.tenant, hasher: new LeafHasher(request.tenant) };
  const { bytes } = request;
  const batch = precomputeBatch(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), hasher.hasher, noteCheck(request.notes));
  const response: BatchResponse = { id: request.id, bytes, batch };
  parentPort!.postMessage(response, [bytes.buffer, batch.offsets.buffer, batch.data.buffer]);
});

/** openNote with trustedVerifiers(keys, origin), as the engine opens notes; made once per context. */
function noteCheck(notes: NotesContext | undefined): NoteCheck | undefined {
  if (!notes) return undefined;
  const context = JSON.stringify(notes);
  if (checker?.context !== context) {
    let check: NoteCheck | undefined;
    try {
      const verifiers = trustedVerifiers(notes.keys, notes.origin);
      check = (note) => {
        try {
          openNote(note, verifiers);
          return true;
        } catch {
          return false; // the engine opens it again and reports why
        }
      };
    } catch {
      check = undefined; // malformed keys: the engine refuses them itself
    }
    checker = { context, check };
  }
  return checker.check;
}
