/**
 * The optional native SHA-256 of native/sha256.c: batches of messages in one call, and interior
 * nodes hashed into a caller's buffer, at about a quarter of node:crypto's cost per hash (most of
 * which is the call itself). Built on `npm install` by scripts/build-native.mjs when a C compiler
 * and Node's headers are there; when it is not built, or `TRAILPROOF_NATIVE=0`, this is undefined
 * and crypto.ts hashes with node:crypto instead: the same answers (the tests hold them equal), only slower.
 */
import { addonPath, loadAddon, nativeAddon } from '../native/load.ts';

export interface NativeSha256 {
  /** API_VERSION of native/sha256.c. */
  version: number;
  /** Message i is data[ranges[2i], ranges[2i + 1]); its digest is written to out[32i, 32i + 32). Throws a RangeError on ranges outside data or too short an out. */
  sha256Many(data: Uint8Array, ranges: Uint32Array, out: Uint8Array): void;
  /** out[0, 32) = SHA-256(0x01 || left || right), for 32-byte left and right. */
  nodeHash(left: Uint8Array, right: Uint8Array, out: Uint8Array): void;
  /**
   * Appends `leaf` to the frontier of a tree of `size` leaves, held as 32-byte slots (largest subtree
   * first, popcount(size) used, room for one more): merges it with the trailing subtrees, one node
   * per trailing 1 bit of size, into the first slot of those (RFC 9162 §2.1.1).
   */
  frontierPush(frontier: Uint8Array, size: number, leaf: Uint8Array): void;
}

/** The API_VERSION of native/sha256.c this code calls. */
const VERSION = 1;

/** The addon at `path` (by default where `npm install` builds it), if it loads and is of the version this code calls. */
export function loadNativeSha256(path = addonPath('trailproof_sha256')): NativeSha256 | undefined {
  return loadAddon<NativeSha256>(path, VERSION);
}

export const nativeSha256 = nativeAddon<NativeSha256>('trailproof_sha256', VERSION);
