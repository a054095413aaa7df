/*
 * The export's byte tidying in C: what src/export/json-compact.ts and src/export/csv-rows.ts do to
 * the pages PostgreSQL writes (jsonb_out's spaces dropped, CSV cells quoted), at less than half the
 * JavaScript's cost per event (0.6-0.7 against ~1.5 µs in one process), CPU the database, which
 * limits an export, then has for itself.
 *
 * Only the common cases: whatever these functions do not take (a number JavaScript writes
 * otherwise, an array-index key, a CSV cell with an escape or that starts like a formula, a row not
 * in the expected form) they hand back to the JavaScript, which writes it and reports any error. So
 * the output is the JavaScript's, byte for byte; src/export/native-tidy.test.ts holds them equal.
 *
 * Optional: src/export/native-tidy.ts uses the JavaScript alone when this is not built. Built by
 * scripts/build-native.mjs on `npm install`.
 */
#include "napi-args.h"
#include <stdint.h>
#include <string.h>

/* Raised with every change of the functions below; src/export/native-tidy.ts ignores a build of another version. */
#define API_VERSION 1

#define US 0x1f /* between cells */
#define RS 0x1e /* after a row */

/* The cell kinds of src/export/csv-rows.ts, as src/export/native-tidy.ts numbers them. */
enum { RAW = 0, PLAIN = 1, TEXT = 2, JSON = 3 };

/* What copying a JSON value found. */
enum { VALUE_OK = 0, VALUE_REWRITE = 1, STRING_CUT = -1, VALUE_CUT = -2 };

static inline int isDigit(uint8_t c) { return c >= '0' && c <= '9'; }
static inline int isNumberByte(uint8_t c) { return isDigit(c) || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'; }
/* = + - @ (TAB and CR arrive escaped, or not at all). */
static inline int isFormulaStart(uint8_t c) { return c == '=' || c == '+' || c == '-' || c == '@'; }

/* A copy from `in` at `i` to `out` at `o`; they may be the same memory with o <= i when nothing doubles. */
typedef struct {
  const uint8_t *in;
  size_t n;
  size_t i;
  uint8_t *out;
  size_t o;
  int doubleQuotes; /* write every '"' twice (the value goes in a CSV field) */
  int readOnly;     /* write nothing: only see what the value holds */
  int special;      /* a '"' or ',' was written */
} Copy;

/*
 * Whether JavaScript surely writes the number out[from, from + length) as it is: an integer of at
 * most 15 digits without a leading zero, maybe negative (not -0). Anything else is left to the
 * JavaScript's exact check.
 */
static int plainInteger(const uint8_t *digits, size_t length) {
  if (length > 0 && digits[0] == '-') {
    digits++;
    length--;
    if (length == 0 || digits[0] == '0') return 0;
  }
  if (length == 0 || length > 15 || (length > 1 && digits[0] == '0')) return 0;
  for (size_t j = 0; j < length; j++) if (!isDigit(digits[j])) return 0;
  return 1;
}

/* Whether the key text[0, length) is an array index: 1 to 10 digits, no leading zero unless alone, below 2^32 - 1. */
static int arrayIndex(const uint8_t *text, size_t length) {
  if (length == 0 || length > 10 || (length > 1 && text[0] == '0')) return 0;
  uint64_t index = 0;
  for (size_t j = 0; j < length; j++) {
    if (!isDigit(text[j])) return 0;
    index = index * 10 + (uint64_t)(text[j] - '0');
  }
  return index < 4294967295ULL;
}

/*
 * JsonCompactor.value of src/export/json-compact.ts: one JSON value without the spaces outside
 * strings. Made once for each use (`write`, `doubled` constants), so the byte loops test neither.
 */
static inline __attribute__((always_inline)) int jsonValueAs(Copy *c, const int write, const int doubled) {
  const uint8_t *in = c->in;
  uint8_t *out = c->out;
  size_t n = c->n, i = c->i, o = c->o;
  int depth = 0, rewrite = 0, special = c->special;
#define PUT(byte)                         \
  do {                                    \
    uint8_t b_ = (byte);                  \
    if (write) out[o] = b_;               \
    o++;                                  \
    if (b_ == '"') {                      \
      special = 1;                        \
      if (doubled && write) out[o] = '"'; \
      o += doubled;                       \
    } else if (b_ == ',') {               \
      special = 1;                        \
    }                                     \
  } while (0)
  do {
    if (i >= n) return VALUE_CUT;
    uint8_t ch = in[i];
    if (ch == '"') {
      PUT(ch);
      i++;
      size_t keyFrom = i, keyOut = o;
      int escaped = 0;
      for (;;) {
        /* The run up to the next quote or backslash, copied at once: it holds neither. */
        size_t from = i;
        if (write) {
          while (i < n && in[i] != '"' && in[i] != '\\') out[o++] = in[i++];
        } else {
          while (i < n && in[i] != '"' && in[i] != '\\') i++;
          o += i - from;
        }
        if (i >= n) return STRING_CUT;
        if (in[i] == '"') {
          PUT('"');
          i++;
          break;
        }
        PUT('\\');
        if (++i >= n) return STRING_CUT;
        PUT(in[i]);
        i++;
        escaped = 1;
      }
      /* A key that is an array index, which a JavaScript object lists first. Read where it was
       * copied: in place, the copy may have overwritten the input. */
      if (!escaped && i < n && in[i] == ':' && arrayIndex(write ? out + keyOut : in + keyFrom, i - 1 - keyFrom)) rewrite = 1;
    } else if (ch == ' ') {
      i++;
    } else if (isDigit(ch) || ch == '-') {
      size_t from = i;
      while (i < n && isNumberByte(in[i])) i++;
      if (!plainInteger(in + from, i - from)) rewrite = 1;
      if (write) for (size_t j = from; j < i; j++) out[o++] = in[j];
      else o += i - from;
    } else if (ch >= 'a' && ch <= 'z') {
      size_t from = i;
      while (i < n && in[i] >= 'a' && in[i] <= 'z') i++; /* true, false, null */
      if (write) for (size_t j = from; j < i; j++) out[o++] = in[j];
      else o += i - from;
    } else {
      PUT(ch);
      i++;
      if (ch == '{' || ch == '[') depth++;
      else if (ch == '}' || ch == ']') depth--;
    }
  } while (depth > 0);
#undef PUT
  c->i = i;
  c->o = o;
  c->special = special;
  return rewrite ? VALUE_REWRITE : VALUE_OK;
}

static int jsonValue(Copy *c) {
  if (c->readOnly) return jsonValueAs(c, 0, 0);
  return c->doubleQuotes ? jsonValueAs(c, 1, 1) : jsonValueAs(c, 1, 0);
}

/*
 * compactJsonLines(lines: Uint8Array, state: Uint32Array): compacts lines in place from
 * lines[state[0]] to lines[state[1]] (state[1] <= state[0]), each a JSON value and "\n", until a
 * line JavaScript must see to: one with a number other than a plain integer, an array-index key, or
 * not in that form. Then returns true with state at that line's start, nothing of it written; at
 * the end returns false with state[0] = lines.length. The JavaScript gets the line as it was: each
 * line is compacted into a scratch buffer and copied back once it is known to be a common one (a
 * line longer than that buffer is read once to see, then compacted in place).
 */
static napi_value CompactJsonLines(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2) return fail(env, "compactJsonLines(lines, state)");
  uint8_t *lines;
  uint32_t *state;
  size_t n, stateLength;
  if (!typed(env, argv[0], napi_uint8_array, (void **)&lines, &n)) return fail(env, "lines must be a Uint8Array");
  if (!typed(env, argv[1], napi_uint32_array, (void **)&state, &stateLength) || stateLength < 2) return fail(env, "state must be a Uint32Array of 2");
  if (n > UINT32_MAX || state[0] > n || state[1] > state[0]) return outOfRange(env, "state must be positions in lines, written <= read");
  Copy c = {lines, n, state[0], lines, state[1], 0, 0, 0};
  uint8_t scratch[16384];
  int stopped = 0;
  while (c.i < n && !stopped) {
    /* A line ends at its first "\n": JSON writes a line break in a string as \n. */
    const uint8_t *newline = memchr(lines + c.i, '\n', n - c.i);
    size_t lineEnd = newline ? (size_t)(newline - lines) : n;
    if (lineEnd - c.i <= sizeof scratch) {
      /* Read no further than the line, so no more than its length is written to the scratch buffer. */
      Copy line = {lines, lineEnd, c.i, scratch, 0, 0, 0, 0};
      stopped = jsonValue(&line) != VALUE_OK || line.i != lineEnd || lineEnd == n;
      if (!stopped) {
        memcpy(lines + c.o, scratch, line.o);
        c.o += line.o;
        lines[c.o++] = '\n';
        c.i = lineEnd + 1;
      }
    } else {
      Copy probe = c;
      probe.readOnly = 1;
      stopped = jsonValue(&probe) != VALUE_OK || probe.i >= n || lines[probe.i] != '\n';
      if (!stopped) {
        jsonValue(&c);
        lines[c.o++] = lines[c.i++];
      }
    }
  }
  state[0] = (uint32_t)c.i;
  state[1] = (uint32_t)c.o;
  napi_value result;
  napi_get_boolean(env, stopped, &result);
  return result;
}

/* source[0, length) as an RFC 4180 field at out[o]: in quotes with its quotes doubled if `quoted`. */
static size_t putField(uint8_t *out, size_t o, const uint8_t *source, size_t length, int quoted) {
  if (!quoted) {
    memcpy(out + o, source, length);
    return o + length;
  }
  out[o++] = '"';
  for (size_t j = 0; j < length; j++) {
    out[o++] = source[j];
    if (source[j] == '"') out[o++] = '"';
  }
  out[o++] = '"';
  return o;
}

/* One row, as tidyCsvRows of src/export/csv-rows.ts writes it; 0 (nothing kept) if it is one for the JavaScript. */
static int csvRow(Copy *c, const uint8_t *kinds, size_t count) {
  const uint8_t *in = c->in;
  uint8_t *out = c->out;
  size_t n = c->n, i = c->i, o = c->o;
  for (size_t k = 0; k < count; k++) {
    if (k > 0) {
      if (i >= n || in[i] != US) return 0;
      out[o++] = ',';
      i++;
    }
    if (i >= n) return 0;
    uint8_t first = in[i];
    if (first == US || first == RS) continue; /* empty */
    switch (kinds[k]) {
      case RAW:
        while (i < n && in[i] != US && in[i] != RS) out[o++] = in[i++];
        break;
      case PLAIN: {
        if (isFormulaStart(first) || first == '\'') return 0;
        size_t end = i;
        int quoted = 0;
        for (; end < n && in[end] != US && in[end] != RS; end++) quoted |= in[end] == ',' || in[end] == '"';
        if (end >= n) return 0;
        o = putField(out, o, in + i, end - i, quoted);
        i = end;
        break;
      }
      case TEXT: {
        /* A JSON string without escapes (so no quote or line break in it), quoted if it holds a comma. */
        if (first != '"') return 0;
        size_t start = i + 1, end = start;
        int comma = 0;
        for (; end < n && in[end] != '"'; end++) {
          if (in[end] == '\\') return 0;
          comma |= in[end] == ',';
        }
        if (end >= n || in[start] == '\'') return 0;
        if (comma) out[o++] = '"';
        if (isFormulaStart(in[start])) out[o++] = '\'';
        memcpy(out + o, in + start, end - start);
        o += end - start;
        if (comma) out[o++] = '"';
        i = end + 1;
        break;
      }
      case JSON: {
        /* Compacted straight into a quoted field, the quotes dropped again if nothing needed them. */
        size_t at = o;
        Copy value = {in, n, i, out, o + 1, 1, 0, 0};
        if (jsonValue(&value) != VALUE_OK) return 0;
        i = value.i;
        o = value.o;
        if (value.special) {
          out[at] = '"';
          out[o++] = '"';
        } else {
          memmove(out + at, out + at + 1, o - at - 1);
          o--;
        }
        break;
      }
      default:
        return 0;
    }
  }
  if (i >= n || in[i] != RS) return 0;
  out[o++] = '\r';
  out[o++] = '\n';
  c->i = i + 1;
  c->o = o;
  return 1;
}

/*
 * tidyCsvRows(rows: Uint8Array, kinds: Uint8Array, out: Uint8Array, state: Uint32Array): writes
 * the rows from rows[state[0]] to out[state[1]] until one the JavaScript must write (or one out
 * may lack room for); then returns true with state at that row's start. At the end returns false
 * with state[0] = rows.length.
 */
static napi_value TidyCsvRows(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4) return fail(env, "tidyCsvRows(rows, kinds, out, state)");
  uint8_t *rows, *kinds, *out;
  uint32_t *state;
  size_t n, count, outLength, stateLength;
  if (!typed(env, argv[0], napi_uint8_array, (void **)&rows, &n)) return fail(env, "rows must be a Uint8Array");
  if (!typed(env, argv[1], napi_uint8_array, (void **)&kinds, &count)) return fail(env, "kinds must be a Uint8Array");
  if (!typed(env, argv[2], napi_uint8_array, (void **)&out, &outLength)) return fail(env, "out must be a Uint8Array");
  if (!typed(env, argv[3], napi_uint32_array, (void **)&state, &stateLength) || stateLength < 2) return fail(env, "state must be a Uint32Array of 2");
  for (size_t k = 0; k < count; k++) if (kinds[k] > JSON) return outOfRange(env, "kinds must be 0 (raw), 1 (plain), 2 (text) or 3 (json)");
  if (n > UINT32_MAX || outLength > UINT32_MAX || state[0] > n || state[1] > outLength) return outOfRange(env, "state must be positions in rows and out");
  if (out < rows + n && rows < out + outLength) return outOfRange(env, "out must not share memory with rows");
  Copy c = {rows, n, state[0], out, state[1], 0, 0, 0};
  int stopped = 0;
  while (c.i < n) {
    const uint8_t *rowEnd = memchr(rows + c.i, RS, n - c.i);
    size_t length = rowEnd ? (size_t)(rowEnd - (rows + c.i)) : n - c.i;
    /* What the JavaScript reserves: each cell at most twice its length, quotes and a prefix, CRLF. */
    if (outLength - c.o < 2 * length + 4 * count + 2 || !csvRow(&c, kinds, count)) {
      stopped = 1;
      break;
    }
  }
  state[0] = (uint32_t)c.i;
  state[1] = (uint32_t)c.o;
  napi_value result;
  napi_get_boolean(env, stopped, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value version, compact, tidy;
  napi_create_uint32(env, API_VERSION, &version);
  napi_set_named_property(env, exports, "version", version);
  napi_create_function(env, "compactJsonLines", NAPI_AUTO_LENGTH, CompactJsonLines, NULL, &compact);
  napi_set_named_property(env, exports, "compactJsonLines", compact);
  napi_create_function(env, "tidyCsvRows", NAPI_AUTO_LENGTH, TidyCsvRows, NULL, &tidy);
  napi_set_named_property(env, exports, "tidyCsvRows", tidy);
  return exports;
}
