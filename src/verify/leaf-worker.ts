/** A worker thread of leaf-pool.ts: precomputes batches of lines (leaf-precompute.ts) for one tenant at a time. */
import { parentPort } from 'node:worker_threads';
import { LeafHasher } from './leaf-hasher.ts';
import { precomputeBatch } from './leaf-precompute.ts';
import type { BatchRequest, BatchResponse } from './leaf-pool.ts';

let hasher: { tenant: string; hasher: LeafHasher } | undefined;

parentPort!.on('message', (request: BatchRequest) => {
  if (hasher?.tenant !== request.tenant) hasher = { tenant: request.tenant, hasher: new LeafHasher(request.tenant) };
  const { bytes } = request;
  const batch = precomputeBatch(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), hasher.hasher);
  const response: BatchResponse = { id: request.id, bytes, batch };
  parentPort!.postMessage(response, [bytes.buffer, batch.offsets.buffer, batch.data.buffer]);
});
