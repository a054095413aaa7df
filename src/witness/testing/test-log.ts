/**
 * Test-only: a transparency log in memory (MemoryHashStore, the reference HashReader) that signs its
 * checkpoints with a fresh Ed25519 note key, and a witness on a fresh data directory.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatCheckpoint } from '../../ledger/checkpoint.ts';
import { leafHash } from '../../ledger/hash.ts';
import { generateCosignerKey, parseCosignerKey } from '../../ledger/cosignature.ts';
import { MemoryHashStore } from '../../ledger/memory-hash-store.ts';
import { generateSignerKey, parseSignerKey, signNote } from '../../ledger/note.ts';
import { consistencyProof, rootAt } from '../../ledger/proofs.ts';

export class TestLog {
  readonly origin: string;
  readonly signerKey: string;
  readonly verifierKey: string;
  readonly tree = new MemoryHashStore();
  readonly #tag: string;

  /** `tag` picks the leaves: two logs with other tags fork from their first leaf. */
  constructor(origin = 'log.test/t/acme', options: { tag?: string; signerKey?: string } = {}) {
    this.origin = origin;
    this.#tag = options.tag ?? 'leaf';
    const keys = options.signerKey ? { signerKey: options.signerKey, verifierKey: parseSignerKey(options.signerKey).verifierKey } : generateSignerKey(origin);
    this.signerKey = keys.signerKey;
    this.verifierKey = keys.verifierKey;
  }

  /** Grows the tree to `size` leaves. */
  growTo(size: number): this {
    // Leaf i is leafHash(`<tag> <i>`), as makeLeaves makes them, computed for the new ones only.
    const leaves = [];
    for (let i = this.tree.size; i < size; i++) leaves.push(leafHash(Buffer.from(`${this.#tag} ${i}`)));
    this.tree.append(leaves);
    return this;
  }

  async checkpoint(size = this.tree.size, signerKey = this.signerKey): Promise<string> {
    return signNote(formatCheckpoint({ origin: this.origin, size, root: await rootAt(this.tree, size) }), [parseSignerKey(signerKey)]);
  }

  async proof(from: number, to = this.tree.size): Promise<Buffer[]> {
    return from === 0 || from === to ? [] : consistencyProof(this.tree, from, to);
  }

  /** `--log` entry for a witness. */
  get logEntry(): string {
    return `${this.origin}=${this.verifierKey}`;
  }
}

export function newCosignerKey(name = 'witness.test/w1'): { signerKey: string; verifierKey: string; cosigner: ReturnType<typeof parseCosignerKey> } {
  const keys = generateCosignerKey(name);
  return { ...keys, cosigner: parseCosignerKey(keys.signerKey) };
}

export function tempDir(prefix = 'trailproof-witness-'): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}
