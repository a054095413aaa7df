/** A worker thread of leaf-pool.ts: precomputes batches of lines (leaf-precompute.ts) for one tenant at a time. */
import { parentPort } from 'node:worker_threads';
import { LeafHasher } from './leaf-hasher.ts';
import { precomputeBatch } from './leaf-precompute.ts';
import type { BatchRequest, BatchResponse } from './leaf-pool.ts';

let hasher: { tenant: string; hasher: LeafHasher } | undefined;

parentPort!.on('message', (request: BatchRequest) => {
  if (hasher?.tenant !== request.tenant) hasher = { tenant: request.tenant, hasher: new LeafHasher(request.tenant) };
  const batch = precomputeBatch(Buffer.from(request.lines.buffer, request.lines.byteOffset, request.lines.byteLength), hasher.hasher);
  const response: BatchResponse = { id: request.id, ...batch };
  parentPort!.postMessage(response, [batch.offsets.buffer, batch.data.buffer]);
});
