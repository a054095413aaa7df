/**
 * A worker thread of leaf-pool.ts: precomputes batches of lines (leaf-precompute.ts) for one tenant at
 * a time, checking checkpoint signatures with the keys and origin each request names.
 */
import { parentPort } from 'node:worker_threads';
import { BatchPrecomputer } from './leaf-precompute.ts';
import type { BatchRequest, BatchResponse } from './leaf-pool.ts';

const batches = new BatchPrecomputer();

parentPort!.on('message', (request: BatchRequest) => {
  const { bytes } = request;
  const batch = batches.run(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), request.tenant, request.notes);
  const response: BatchResponse = { id: request.id, bytes, batch };
  parentPort!.postMessage(response, [bytes.buffer, batch.offsets.buffer, batch.data.buffer]);
});
