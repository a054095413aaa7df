/**
 * A worker thread of leaf-pool.ts: precomputes batches of lines (leaf-precompute.ts) for one tenant at
 * a time, checking checkpoint signatures with the keys and origin each request names.
 */
import { parentPort } from 'node:worker_threads';
import { LeafHasher } from './leaf-hasher.ts';
import { noteCheck, precomputeBatch, type NoteCheck, type NotesContext } from './leaf-precompute.ts';
import type { BatchRequest, BatchResponse } from './leaf-pool.ts';

let hasher: { tenant: string; hasher: LeafHasher } | undefined;
let checker: { context: string; check: NoteCheck | undefined } | undefined;

parentPort!.on('message', (request: BatchRequest) => {
  if (hasher?.tenant !== request.tenant) hasher = { tenant: request.tenant, hasher: new LeafHasher(request.tenant) };
  const { bytes } = request;
  const batch = precomputeBatch(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), hasher.hasher, checkFor(request.notes));
  const response: BatchResponse = { id: request.id, bytes, batch };
  parentPort!.postMessage(response, [bytes.buffer, batch.offsets.buffer, batch.data.buffer]);
});

/** The note check for these keys and origin, made once for each. */
function checkFor(notes: NotesContext | undefined): NoteCheck | undefined {
  if (!notes) return undefined;
  const context = JSON.stringify(notes);
  if (checker?.context !== context) checker = { context, check: noteCheck(notes) };
  return checker.check;
}
