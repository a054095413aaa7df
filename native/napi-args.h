/* Argument checks shared by the addons: thrown errors and typed-array access. */
#ifndef TRAILPROOF_NAPI_ARGS_H
#define TRAILPROOF_NAPI_ARGS_H
#include <node_api.h>
#include <stdbool.h>

static inline napi_value fail(napi_env env, const char *message) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return NULL;
}

static inline napi_value outOfRange(napi_env env, const char *message) {
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", message);
  return NULL;
}

/* The bytes of a typed array of type `want`; false (with nothing thrown) if it is not one. */
static inline int typed(napi_env env, napi_value value, napi_typedarray_type want, void **data, size_t *length) {
  bool is;
  if (napi_is_typedarray(env, value, &is) != napi_ok || !is) return 0;
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, length, data, &buffer, &offset) != napi_ok) return 0;
  return type == want;
}

#endif
