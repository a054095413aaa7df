/*
 * SHA-256 for the ledger's hot loops, without node:crypto's per-call cost. crypto.hash spends
 * ~0.5 µs per call resolving the algorithm and building its result; the hashing of a 65-byte node
 * takes ~0.1 µs. Here one call hashes a whole batch of messages (sha256Many), one interior node
 * into a buffer the caller owns (nodeHash), or appends a leaf to a tree's frontier (frontierPush). The hashing itself is Node's own OpenSSL (its SHA-256,
 * with the CPU's SHA extensions where present): no cryptographic code of ours.
 *
 * Optional: src/ledger/native-sha256.ts falls back to node:crypto when this is not built, and the
 * tests hold both to the same answers. Built by scripts/build-native.mjs on `npm install`.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "napi-args.h"
#include <openssl/sha.h>
#include <stdint.h>
#include <string.h>

#define DIGEST 32
/* Raised with every change of the functions below; src/ledger/native-sha256.ts ignores a build of another version. */
#define API_VERSION 1

/*
 * sha256Many(data: Uint8Array, ranges: Uint32Array, out: Uint8Array): message i is
 * data[ranges[2i], ranges[2i + 1]); its digest goes to out[32i, 32i + 32).
 */
static napi_value Sha256Many(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3) return fail(env, "sha256Many(data, ranges, out)");
  uint8_t *data, *out;
  uint32_t *ranges;
  size_t dataLength, bounds, outLength;
  if (!typed(env, argv[0], napi_uint8_array, (void **)&data, &dataLength)) return fail(env, "data must be a Uint8Array");
  if (!typed(env, argv[1], napi_uint32_array, (void **)&ranges, &bounds) || bounds % 2 != 0) return fail(env, "ranges must be a Uint32Array of start, end pairs");
  if (!typed(env, argv[2], napi_uint8_array, (void **)&out, &outLength)) return fail(env, "out must be a Uint8Array");
  size_t count = bounds / 2;
  if (outLength / DIGEST < count) return outOfRange(env, "out is too short for the digests");
  /* Checked before any hashing: a bad range cannot make us read outside `data`. */
  for (size_t i = 0; i < count; i++) {
    if (ranges[2 * i] > ranges[2 * i + 1] || ranges[2 * i + 1] > dataLength) return outOfRange(env, "every range must lie within data, start <= end");
  }
  /* SHA256_Init/Update/Final, not SHA256(): in OpenSSL 3 that one looks the algorithm up per call. */
  SHA256_CTX context;
  for (size_t i = 0; i < count; i++) {
    SHA256_Init(&context);
    SHA256_Update(&context, data + ranges[2 * i], ranges[2 * i + 1] - ranges[2 * i]);
    SHA256_Final(out + DIGEST * i, &context);
  }
  return NULL;
}

/* nodeHash(left: Uint8Array, right: Uint8Array, out: Uint8Array): out[0, 32) = SHA-256(0x01 || left || right), 32-byte hashes. */
static napi_value NodeHash(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3) return fail(env, "nodeHash(left, right, out)");
  uint8_t *left, *right, *out;
  size_t leftLength, rightLength, outLength;
  if (!typed(env, argv[0], napi_uint8_array, (void **)&left, &leftLength) || leftLength != DIGEST) return fail(env, "left must be 32 bytes");
  if (!typed(env, argv[1], napi_uint8_array, (void **)&right, &rightLength) || rightLength != DIGEST) return fail(env, "right must be 32 bytes");
  if (!typed(env, argv[2], napi_uint8_array, (void **)&out, &outLength) || outLength < DIGEST) return fail(env, "out must hold 32 bytes");
  static const uint8_t prefix = 0x01;
  SHA256_CTX context;
  SHA256_Init(&context);
  SHA256_Update(&context, &prefix, 1);
  SHA256_Update(&context, left, DIGEST);
  SHA256_Update(&context, right, DIGEST);
  SHA256_Final(out, &context);
  return NULL;
}

/*
 * frontierPush(frontier: Uint8Array, size: number, leaf: Uint8Array): appends a leaf hash to the
 * frontier of a tree of `size` leaves (RFC 9162 §2.1.1: its perfect subtrees, largest first, one
 * 32-byte slot each, popcount(size) slots used): the last subtrees are merged with the leaf, one
 * interior node per trailing 1 bit of `size`, and the result written to the first of their slots.
 */
static napi_value FrontierPush(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3) return fail(env, "frontierPush(frontier, size, leaf)");
  uint8_t *frontier, *leaf;
  size_t frontierLength, leafLength;
  double sizeValue;
  if (!typed(env, argv[0], napi_uint8_array, (void **)&frontier, &frontierLength)) return fail(env, "frontier must be a Uint8Array");
  if (napi_get_value_double(env, argv[1], &sizeValue) != napi_ok) return fail(env, "size must be a number");
  if (!typed(env, argv[2], napi_uint8_array, (void **)&leaf, &leafLength) || leafLength != DIGEST) return fail(env, "leaf must be 32 bytes");
  if (!(sizeValue >= 0 && sizeValue < 9007199254740992.0) || sizeValue != (double)(uint64_t)sizeValue) return outOfRange(env, "size must be a safe non-negative integer");
  uint64_t size = (uint64_t)sizeValue;
  size_t used = (size_t)__builtin_popcountll(size);
  if (frontierLength / DIGEST < used + 1) return outOfRange(env, "frontier is too short for the tree");
  static const uint8_t prefix = 0x01;
  uint8_t hash[DIGEST];
  memcpy(hash, leaf, DIGEST);
  size_t slot = used;
  for (uint64_t rest = size; rest & 1; rest >>= 1) {
    slot -= 1;
    SHA256_CTX context;
    SHA256_Init(&context);
    SHA256_Update(&context, &prefix, 1);
    SHA256_Update(&context, frontier + DIGEST * slot, DIGEST);
    SHA256_Update(&context, hash, DIGEST);
    SHA256_Final(hash, &context);
  }
  memcpy(frontier + DIGEST * slot, hash, DIGEST);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value many, node, push, version;
  napi_create_uint32(env, API_VERSION, &version);
  napi_set_named_property(env, exports, "version", version);
  napi_create_function(env, "sha256Many", NAPI_AUTO_LENGTH, Sha256Many, NULL, &many);
  napi_create_function(env, "nodeHash", NAPI_AUTO_LENGTH, NodeHash, NULL, &node);
  napi_create_function(env, "frontierPush", NAPI_AUTO_LENGTH, FrontierPush, NULL, &push);
  napi_set_named_property(env, exports, "frontierPush", push);
  napi_set_named_property(env, exports, "sha256Many", many);
  napi_set_named_property(env, exports, "nodeHash", node);
  return exports;
}
