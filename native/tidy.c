/*
 * The export's byte work in C: what src/export/csv-rows.ts and src/export/event-lines.ts do to the
 * pages PostgreSQL writes (CSV cells quoted, jsonb_out's spaces dropped, an event's members put in
 * the read API's order), at a third of the JavaScript's cost per event (0.5 against 1.5 µs per CSV
 * row, 1.0-1.3 against 3.3 per JSON line, in one process): CPU the database, which limits an
 * export, then has for itself.
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
#define API_VERSION 4

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

/* A copy from `in` at `i` to `out` at `o`. */
typedef struct {
  const uint8_t *in;
  size_t n;
  size_t i;
  uint8_t *out;
  size_t o;
  int doubleQuotes; /* write every '"' twice (the value goes in a CSV field) */
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
 * strings. Made once for each use (`doubled` a constant), so the byte loops do not test it.
 */
static inline __attribute__((always_inline)) int jsonValueAs(Copy *c, const int doubled) {
  const uint8_t *in = c->in;
  uint8_t *out = c->out;
  size_t n = c->n, i = c->i, o = c->o;
  int depth = 0, rewrite = 0, special = c->special;
#define PUT(byte)                         \
  do {                                    \
    uint8_t b_ = (byte);                  \
    out[o++] = b_;                        \
    if (b_ == '"') {                      \
      special = 1;                        \
      if (doubled) out[o++] = '"';        \
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
        while (i < n && in[i] != '"' && in[i] != '\\') out[o++] = in[i++];
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
      if (!escaped && i < n && in[i] == ':' && arrayIndex(out + keyOut, i - 1 - keyFrom)) rewrite = 1;
    } else if (ch == ' ') {
      i++;
    } else if (isDigit(ch) || ch == '-') {
      size_t from = i;
      while (i < n && isNumberByte(in[i])) i++;
      if (!plainInteger(in + from, i - from)) rewrite = 1;
      for (size_t j = from; j < i; j++) out[o++] = in[j];
    } else if (ch >= 'a' && ch <= 'z') {
      size_t from = i;
      while (i < n && in[i] >= 'a' && in[i] <= 'z') i++; /* true, false, null */
      for (size_t j = from; j < i; j++) out[o++] = in[j];
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
  return c->doubleQuotes ? jsonValueAs(c, 1) : jsonValueAs(c, 0);
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
        Copy value = {in, n, i, out, o + 1, 1, 0};
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
 * The arguments both page functions take, rows (argv[0]), out and state (the last two), checked:
 * the copy from rows[state[0]] to out[state[1]], or 0 with an error thrown.
 */
static int pageArguments(napi_env env, napi_value *argv, size_t argc, Copy *c, size_t *outLength, uint32_t **state) {
  uint8_t *rows, *out;
  size_t n, stateLength;
  if (!typed(env, argv[0], napi_uint8_array, (void **)&rows, &n)) return fail(env, "rows must be a Uint8Array"), 0;
  if (!typed(env, argv[argc - 2], napi_uint8_array, (void **)&out, outLength)) return fail(env, "out must be a Uint8Array"), 0;
  if (!typed(env, argv[argc - 1], napi_uint32_array, (void **)state, &stateLength) || stateLength < 2) return fail(env, "state must be a Uint32Array of 2"), 0;
  if (n > UINT32_MAX || *outLength > UINT32_MAX || (*state)[0] > n || (*state)[1] > *outLength) return outOfRange(env, "state must be positions in rows and out"), 0;
  if (out < rows + n && rows < out + *outLength) return outOfRange(env, "out must not share memory with rows"), 0;
  Copy copy = {rows, n, (*state)[0], out, (*state)[1], 0, 0};
  *c = copy;
  return 1;
}

/* Where a page function got to, into state, and whether it stopped at a row for the JavaScript. */
static napi_value pageResult(napi_env env, const Copy *c, uint32_t *state, int stopped) {
  state[0] = (uint32_t)c->i;
  state[1] = (uint32_t)c->o;
  napi_value result;
  napi_get_boolean(env, stopped, &result);
  return result;
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
  Copy c;
  size_t outLength, count;
  uint32_t *state;
  uint8_t *kinds;
  if (!pageArguments(env, argv, argc, &c, &outLength, &state)) return NULL;
  if (!typed(env, argv[1], napi_uint8_array, (void **)&kinds, &count)) return fail(env, "kinds must be a Uint8Array");
  for (size_t k = 0; k < count; k++) if (kinds[k] > JSON) return outOfRange(env, "kinds must be 0 (raw), 1 (plain), 2 (text) or 3 (json)");
  int stopped = 0;
  while (c.i < c.n) {
    const uint8_t *rowEnd = memchr(c.in + c.i, RS, c.n - c.i);
    size_t length = rowEnd ? (size_t)(rowEnd - (c.in + c.i)) : c.n - c.i;
    /* What the JavaScript reserves: each cell at most twice its length, quotes and a prefix, CRLF. */
    if (outLength - c.o < 2 * length + 4 * count + 2 || !csvRow(&c, kinds, count)) {
      stopped = 1;
      break;
    }
  }
  return pageResult(env, &c, state, stopped);
}

/*
 * A JSON value, strictly: what JSON.parse takes and JSON.stringify writes back byte for byte, spaces
 * aside. Copies it compacted from in[*i] to out[*o] and returns 1, or returns 0 for anything else
 * (an escape JSON.stringify would write otherwise, a raw control character, a number but a plain
 * integer, an array-index key, a literal cut short, nesting deeper than 64, anything malformed),
 * which the JavaScript then parses and writes itself.
 */
static int strictValue(const uint8_t *in, size_t n, size_t *pi, uint8_t *out, size_t *po, int depth);

static void skipSpaces(const uint8_t *in, size_t n, size_t *i) {
  while (*i < n && in[*i] == ' ') (*i)++;
}

/* A JSON string; *index is set if it is an array index (see arrayIndex). */
static int strictString(const uint8_t *in, size_t n, size_t *pi, uint8_t *out, size_t *po, int *index) {
  size_t i = *pi, o = *po;
  if (i >= n || in[i] != '"') return 0;
  out[o++] = in[i++];
  size_t from = i;
  int escaped = 0;
  for (;;) {
    if (i >= n) return 0;
    uint8_t b = in[i];
    if (b == '"') break;
    if (b < 0x20) return 0;
    if (b == '\\') {
      if (i + 1 >= n) return 0;
      uint8_t e = in[i + 1];
      size_t length = 2;
      if (e == 'u') {
        /* JSON.stringify writes \u only for the control characters without a short escape, as \u00xx. */
        if (i + 5 >= n || in[i + 2] != '0' || in[i + 3] != '0' || (in[i + 4] != '0' && in[i + 4] != '1')) return 0;
        uint8_t low = in[i + 5];
        int value = (in[i + 4] - '0') * 16 + (isDigit(low) ? low - '0' : low >= 'a' && low <= 'f' ? low - 'a' + 10 : -100);
        if (value < 0 || value == 8 || value == 9 || value == 10 || value == 12 || value == 13) return 0;
        length = 6;
      } else if (e != '"' && e != '\\' && e != 'b' && e != 'f' && e != 'n' && e != 'r' && e != 't') {
        return 0;
      }
      memcpy(out + o, in + i, length);
      o += length;
      i += length;
      escaped = 1;
      continue;
    }
    out[o++] = b;
    i++;
  }
  *index = !escaped && arrayIndex(in + from, i - from);
  out[o++] = in[i++];
  *pi = i;
  *po = o;
  return 1;
}

static int strictValue(const uint8_t *in, size_t n, size_t *pi, uint8_t *out, size_t *po, int depth) {
  size_t i = *pi, o = *po;
  if (i >= n || depth > 64) return 0;
  uint8_t c = in[i];
  int index;
  if (c == '{' || c == '[') {
    uint8_t close = c == '{' ? '}' : ']';
    out[o++] = in[i++];
    skipSpaces(in, n, &i);
    if (i < n && in[i] == close) {
      out[o++] = in[i++];
    } else {
      for (;;) {
        if (c == '{') {
          if (!strictString(in, n, &i, out, &o, &index) || index) return 0;
          skipSpaces(in, n, &i);
          if (i >= n || in[i] != ':') return 0;
          out[o++] = in[i++];
          skipSpaces(in, n, &i);
        }
        if (!strictValue(in, n, &i, out, &o, depth + 1)) return 0;
        skipSpaces(in, n, &i);
        if (i < n && in[i] == ',') {
          out[o++] = in[i++];
          skipSpaces(in, n, &i);
          continue;
        }
        if (i < n && in[i] == close) {
          out[o++] = in[i++];
          break;
        }
        return 0;
      }
    }
  } else if (c == '"') {
    if (!strictString(in, n, &i, out, &o, &index)) return 0;
  } else if (c == '-' || isDigit(c)) {
    size_t from = i;
    while (i < n && isNumberByte(in[i])) i++;
    if (!plainInteger(in + from, i - from)) return 0;
    memcpy(out + o, in + from, i - from);
    o += i - from;
  } else {
    static const char *const literals[] = {"true", "false", "null"};
    size_t k = 0;
    while (k < 3 && !(n - i >= strlen(literals[k]) && memcmp(in + i, literals[k], strlen(literals[k])) == 0)) k++;
    if (k == 3) return 0;
    size_t length = strlen(literals[k]);
    if (i + length < n && in[i + length] >= 'a' && in[i + length] <= 'z') return 0;
    memcpy(out + o, in + i, length);
    o += length;
    i += length;
  }
  *pi = i;
  *po = o;
  return 1;
}

/* Whether y-mo-d h:mi:s (ASCII digits at the given offsets of `text`) is a real date and time, as toISOString would write it back. */
static int realTime(const uint8_t *t, size_t year, size_t month, size_t day, size_t hour) {
#define TWO(at) ((t[at] - '0') * 10 + (t[(at) + 1] - '0'))
  int y = TWO(year) * 100 + TWO(year + 2), mo = TWO(month), d = TWO(day);
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1) return 0;
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > days[mo - 1] + (mo == 2 && leap)) return 0;
  return TWO(hour) <= 23 && TWO(hour + 3) <= 59 && TWO(hour + 6) <= 59;
#undef TWO
}

/*
 * The read API's event (toStoredEvent in src/query/event-repository.ts) from a row of
 * src/export/event-lines.ts: its members after uid, tenant and seq, in the API's order, each taken
 * from the body where present; received_at goes right after occurred_at.
 */
static const char *const MEMBERS[] = {"id", "action", "occurred_at", "actor", "targets", "outcome", "reason", "context", "changes", "metadata", "source"};
#define MEMBER_COUNT (sizeof MEMBERS / sizeof MEMBERS[0])
#define OCCURRED_AT 2
/* The row's fields before the body: uid, the tenant as JSON, seq, received_at, occurred_at (empty when the body has it). */
#define FIELDS 5

/* Writes PostgreSQL's ISO timestamp text (YYYY-MM-DD HH:MM:SS[.f{1,6}]) as toISOString does; 0 if it is not that. */
static int isoMillis(const uint8_t *text, size_t length, int quoted, uint8_t *out, size_t *o) {
  static const char shape[] = "dddd-dd-dd dd:dd:dd";
  if (length < 19 || (length > 19 && (text[19] != '.' || length == 20 || length > 26))) return 0;
  for (size_t j = 0; j < length; j++) {
    int digit = j >= 19 ? j > 19 : shape[j] == 'd';
    if (digit ? !isDigit(text[j]) : j < 19 && text[j] != shape[j]) return 0;
  }
  if (!realTime(text, 0, 5, 8, 11)) return 0;
  size_t w = *o;
  if (quoted) out[w++] = '"';
  memcpy(out + w, text, 19);
  out[w + 10] = 'T';
  w += 19;
  out[w++] = '.';
  for (size_t j = 20; j < 23; j++) out[w++] = j < length ? text[j] : '0';
  out[w++] = 'Z';
  if (quoted) out[w++] = '"';
  *o = w;
  return 1;
}

/* Appends the bytes of a C string. */
static size_t put(uint8_t *out, size_t o, const char *text) {
  size_t length = strlen(text);
  memcpy(out + o, text, length);
  return o + length;
}

/* An event row of src/export/event-lines.ts, read: its fields, and its body's members compacted into scratch. */
typedef struct {
  const uint8_t *field[FIELDS];
  size_t fieldLength[FIELDS];
  /* Member m of MEMBERS is scratch[from[m], to[m]) if found[m]. */
  size_t from[MEMBER_COUNT], to[MEMBER_COUNT];
  int found[MEMBER_COUNT];
  /* Where the row's "\n" is, and how much of scratch its members take. */
  size_t end, used;
} EventRow;

/*
 * Reads the row at c->i; 0 for a row the JavaScript must write: fields not as PostgreSQL writes
 * them, a body that is not strictly JSON (see strictValue), an occurred_at not in toISOString's form.
 */
static int readEventRow(const Copy *c, uint8_t *scratch, size_t scratchLength, EventRow *row) {
  const uint8_t *in = c->in;
  size_t i = c->i;
  /* The row is in[i, end), then "\n" (JSON writes a line break in a string as \n); nothing past it is read. */
  const uint8_t *newline = memchr(in + i, '\n', c->n - i);
  if (!newline || (size_t)(newline - in) - i > scratchLength) return 0;
  size_t end = (size_t)(newline - in), n = end;
  const uint8_t **field = row->field;
  size_t *fieldLength = row->fieldLength;
  for (int k = 0; k < FIELDS; k++) {
    size_t start = i;
    while (i < n && in[i] != US && in[i] != '\n') i++;
    if (i >= n || in[i] != US) return 0;
    field[k] = in + start;
    fieldLength[k] = i - start;
    i++;
  }
  if (fieldLength[0] == 0) return 0;
  for (size_t j = 0; j < fieldLength[0]; j++) if (!isDigit(field[0][j]) && !(field[0][j] >= 'a' && field[0][j] <= 'f') && field[0][j] != '-') return 0;
  /* The tenant as JSON.stringify writes it (checked in scratch, which the body then overwrites). */
  size_t tenantRead = 0, tenantWritten = 0;
  int tenantIndex;
  if (!strictString(field[1], fieldLength[1], &tenantRead, scratch, &tenantWritten, &tenantIndex) || tenantRead != fieldLength[1]) return 0;
  /* seq as int8out writes it, and as a JavaScript number writes it back. */
  if (!plainInteger(field[2], fieldLength[2]) || field[2][0] == '-') return 0;
  /* The body: its members' values compacted into scratch, each found by its key. */
  size_t *from = row->from, *to = row->to;
  int *found = row->found;
  memset(found, 0, sizeof row->found);
  size_t s = 0;
  if (i >= n || in[i] != '{') return 0;
  i++;
  for (int first = 1;; first = 0) {
    while (i < n && in[i] == ' ') i++;
    if (i < n && in[i] == '}' && first) break;
    /* Compacted keys and values are never longer than the row, which fits in scratch. */
    size_t keyFrom = s;
    int index;
    if (!strictString(in, n, &i, scratch, &s, &index)) return 0;
    size_t keyLength = s - keyFrom - 2;
    skipSpaces(in, n, &i);
    if (i >= n || in[i] != ':') return 0;
    i++;
    skipSpaces(in, n, &i);
    size_t valueFrom = s;
    if (!strictValue(in, n, &i, scratch, &s, 0)) return 0;
    for (size_t m = 0; m < MEMBER_COUNT; m++) {
      if (strlen(MEMBERS[m]) == keyLength && memcmp(MEMBERS[m], scratch + keyFrom + 1, keyLength) == 0) {
        found[m] = 1;
        from[m] = valueFrom;
        to[m] = s;
      }
    }
    while (i < n && in[i] == ' ') i++;
    if (i < n && in[i] == ',') {
      i++;
      continue;
    }
    if (i < n && in[i] == '}') break;
    return 0;
  }
  if (++i != end) return 0;
  /* The body's occurred_at is taken as it is only in toISOString's form ("YYYY-MM-DDTHH:MM:SS.mmmZ"). */
  if (found[OCCURRED_AT]) {
    static const char shape[] = "\"dddd-dd-ddTdd:dd:dd.dddZ\"";
    if (to[OCCURRED_AT] - from[OCCURRED_AT] != sizeof shape - 1) return 0;
    for (size_t j = 0; j < sizeof shape - 1; j++) {
      uint8_t b = scratch[from[OCCURRED_AT] + j];
      if (shape[j] == 'd' ? !isDigit(b) : b != (uint8_t)shape[j]) return 0;
    }
    if (!realTime(scratch + from[OCCURRED_AT], 1, 6, 9, 12)) return 0;
  }
  row->end = end;
  row->used = s;
  return 1;
}

/* One event line from the row at c->i, into c->out at c->o; 0 (nothing kept) for a row the JavaScript must write, or one `out` may lack room for. */
static int eventLine(Copy *c, uint8_t *scratch, size_t scratchLength, size_t outLength) {
  EventRow row;
  if (!readEventRow(c, scratch, scratchLength, &row)) return 0;
  const uint8_t **field = (const uint8_t **)row.field;
  const size_t *fieldLength = row.fieldLength, *from = row.from, *to = row.to;
  const int *found = row.found;
  size_t s = row.used, end = row.end;
  /* At most: the envelope's members and their names, both timestamps, the body's values and their names. */
  size_t need = 96 + fieldLength[0] + fieldLength[1] + fieldLength[2] + s + 16 * MEMBER_COUNT;
  if (outLength - c->o < need) return 0;
  uint8_t *out = c->out;
  size_t o = c->o;
  o = put(out, o, "{\"uid\":\"");
  memcpy(out + o, field[0], fieldLength[0]);
  o += fieldLength[0];
  o = put(out, o, "\",\"tenant\":");
  memcpy(out + o, field[1], fieldLength[1]);
  o += fieldLength[1];
  o = put(out, o, ",\"seq\":");
  memcpy(out + o, field[2], fieldLength[2]);
  o += fieldLength[2];
  for (size_t m = 0; m < MEMBER_COUNT; m++) {
    if (found[m] || m == OCCURRED_AT) {
      out[o++] = ',';
      out[o++] = '"';
      o = put(out, o, MEMBERS[m]);
      out[o++] = '"';
      out[o++] = ':';
    }
    if (found[m]) {
      memcpy(out + o, scratch + from[m], to[m] - from[m]);
      o += to[m] - from[m];
    } else if (m == OCCURRED_AT && !isoMillis(field[4], fieldLength[4], 1, out, &o)) {
      return 0;
    }
    if (m == OCCURRED_AT) {
      o = put(out, o, ",\"received_at\":");
      if (!isoMillis(field[3], fieldLength[3], 1, out, &o)) return 0;
    }
  }
  out[o++] = '}';
  out[o++] = '\n';
  c->i = end + 1;
  c->o = o;
  return 1;
}

/* Where the value of a compacted JSON value at json[i] ends (it is strictly valid: see strictValue). */
static size_t skipCompact(const uint8_t *json, size_t i, size_t to) {
  int depth = 0;
  do {
    uint8_t b = json[i];
    if (b == '"') {
      for (i++; i < to && json[i] != '"'; i++) if (json[i] == '\\') i++;
      i++;
    } else if (b == '{' || b == '[') {
      depth++;
      i++;
    } else if (b == '}' || b == ']') {
      depth--;
      i++;
    } else if (b == ',' || b == ':') {
      i++; /* between the members or items of what is being skipped */
    } else {
      while (i < to && json[i] != ',' && json[i] != '}' && json[i] != ']') i++;
    }
  } while (depth > 0 && i < to);
  return i;
}

/*
 * The members `names` of the compacted JSON object json[from, to): value of names[k] at
 * json[vf[k], vt[k]), vf[k] = 0 if absent. 0 if it is not an object.
 */
static int objectMembers(const uint8_t *json, size_t from, size_t to, const char *const *names, size_t count, size_t *vf, size_t *vt) {
  for (size_t k = 0; k < count; k++) vf[k] = vt[k] = 0;
  if (to - from < 2 || json[from] != '{') return 0;
  size_t i = from + 1;
  while (i < to && json[i] == '"') {
    size_t keyFrom = i + 1;
    i = skipCompact(json, i, to);
    size_t keyLength = i - 1 - keyFrom;
    size_t valueFrom = i + 1; /* past the ':' */
    i = skipCompact(json, valueFrom, to);
    for (size_t k = 0; k < count; k++) {
      if (strlen(names[k]) == keyLength && memcmp(names[k], json + keyFrom, keyLength) == 0) {
        vf[k] = valueFrom;
        vt[k] = i;
      }
    }
    if (json[i] == ',') i++;
  }
  return 1;
}

/*
 * text[from, to) (no escapes, so no quote or line break in it) as csvCell of src/export/csv.ts
 * writes it: an apostrophe before what starts like a formula (after any apostrophes), in quotes
 * with its quotes doubled when it holds a quote, comma or line break.
 */
static size_t csvField(const uint8_t *text, size_t from, size_t to, uint8_t *out, size_t o) {
  size_t j = from;
  while (j < to && text[j] == '\'') j++;
  int formula = j < to && (isFormulaStart(text[j]) || text[j] == '\t' || text[j] == '\r');
  int quoted = 0;
  for (j = from; j < to && !quoted; j++) quoted = text[j] == '"' || text[j] == ',' || text[j] == '\r' || text[j] == '\n';
  if (quoted) out[o++] = '"';
  if (formula) out[o++] = '\'';
  for (j = from; j < to; j++) {
    out[o++] = text[j];
    if (quoted && text[j] == '"') out[o++] = '"';
  }
  if (quoted) out[o++] = '"';
  return o;
}

/* A string member's cell from its compacted value json[from, to) (from = 0: absent); 0 if the JavaScript must write it. */
static int stringCell(const uint8_t *json, size_t from, size_t to, uint8_t *out, size_t *o) {
  if (from == 0 || (to - from == 4 && memcmp(json + from, "null", 4) == 0)) return 1;
  if (json[from] != '"') return 0;
  for (size_t j = from + 1; j < to - 1; j++) if (json[j] == '\\') return 0;
  *o = csvField(json, from + 1, to - 1, out, *o);
  return 1;
}

/*
 * A nested member's cell (targets, changes, metadata) from its compacted value json[from, to)
 * (from = 0: absent): its JSON, empty when absent, null or empty as `empty` ('[' or '{') says;
 * 0 if it is not of that kind, or required and absent.
 */
static int jsonCell(const uint8_t *json, size_t from, size_t to, char empty, int required, uint8_t *out, size_t *o) {
  if (from == 0) return !required;
  if (to - from == 4 && memcmp(json + from, "null", 4) == 0) return !required;
  if (json[from] != (uint8_t)empty) return 0;
  if (to - from > 2) *o = csvField(json, from, to, out, *o);
  return 1;
}

static const char *const ACTOR[] = {"type", "id", "name"};
static const char *const CONTEXT[] = {"ip", "user_agent", "location", "request_id"};

/*
 * One CSV record (src/export/csv.ts: its columns, csvCell's cells) from the event row at c->i;
 * 0 (nothing kept) for a row the JavaScript must write, or one `out` may lack room for.
 */
static int csvLine(Copy *c, uint8_t *scratch, size_t scratchLength, size_t outLength) {
  EventRow row;
  if (!readEventRow(c, scratch, scratchLength, &row)) return 0;
  /* Each cell at most twice its text, with quotes and an apostrophe; the timestamps and commas. */
  if (outLength - c->o < 2 * (row.end - c->i) + 128) return 0;
  const uint8_t *json = scratch;
  size_t af[3], at[3], xf[4], xt[4];
  /* The actor and the context are objects (JavaScript would fail on their members otherwise). */
  if (!row.found[3] || !objectMembers(json, row.from[3], row.to[3], ACTOR, 3, af, at)) return 0;
  if (!row.found[7] || !objectMembers(json, row.from[7], row.to[7], CONTEXT, 4, xf, xt)) return 0;
#define MEMBER(m) (row.found[m] ? row.from[m] : 0), row.to[m]
  uint8_t *out = c->out;
  size_t o = c->o;
  o = csvField(row.field[0], 0, row.fieldLength[0], out, o);
  out[o++] = ',';
  o = csvField(row.field[2], 0, row.fieldLength[2], out, o);
  out[o++] = ',';
  if (row.found[OCCURRED_AT]) {
    o = csvField(json, row.from[OCCURRED_AT] + 1, row.to[OCCURRED_AT] - 1, out, o);
  } else if (!isoMillis(row.field[4], row.fieldLength[4], 0, out, &o)) {
    return 0;
  }
  out[o++] = ',';
  if (!isoMillis(row.field[3], row.fieldLength[3], 0, out, &o)) return 0;
  int ok = 1;
  out[o++] = ',';
  ok &= stringCell(json, MEMBER(1), out, &o); /* action */
  out[o++] = ',';
  ok &= stringCell(json, MEMBER(5), out, &o); /* outcome */
  for (size_t k = 0; k < 3; k++) {
    out[o++] = ',';
    ok &= stringCell(json, af[k], at[k], out, &o); /* actor_type, actor_id, actor_name */
  }
  out[o++] = ',';
  ok &= jsonCell(json, MEMBER(4), '[', 1, out, &o); /* targets */
  out[o++] = ',';
  ok &= stringCell(json, xf[0], xt[0], out, &o); /* ip */
  out[o++] = ',';
  ok &= stringCell(json, xf[1], xt[1], out, &o); /* user_agent */
  out[o++] = ',';
  ok &= stringCell(json, xf[2], xt[2], out, &o); /* location */
  out[o++] = ',';
  ok &= stringCell(json, xf[3], xt[3], out, &o); /* request_id */
  out[o++] = ',';
  ok &= stringCell(json, MEMBER(6), out, &o); /* reason */
  out[o++] = ',';
  ok &= jsonCell(json, MEMBER(8), '[', 0, out, &o); /* changes */
  out[o++] = ',';
  ok &= jsonCell(json, MEMBER(9), '{', 0, out, &o); /* metadata */
  out[o++] = ',';
  ok &= stringCell(json, MEMBER(0), out, &o); /* id */
  out[o++] = ',';
  ok &= stringCell(json, MEMBER(10), out, &o); /* source */
#undef MEMBER
  if (!ok) return 0;
  out[o++] = '\r';
  out[o++] = '\n';
  c->i = row.end + 1;
  c->o = o;
  return 1;
}

/* A page function over event rows: `line` writes each row's record, until one it does not take. */
static napi_value eventRecords(napi_env env, napi_callback_info info, int (*line)(Copy *, uint8_t *, size_t, size_t), const char *usage) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3) return fail(env, usage);
  Copy c;
  size_t outLength;
  uint32_t *state;
  if (!pageArguments(env, argv, argc, &c, &outLength, &state)) return NULL;
  uint8_t scratch[16384];
  int stopped = 0;
  while (c.i < c.n && !stopped) stopped = !line(&c, scratch, sizeof scratch, outLength);
  return pageResult(env, &c, state, stopped);
}

/*
 * eventLines(rows: Uint8Array, out: Uint8Array, state: Uint32Array): writes the JSON line of each
 * row of src/export/event-lines.ts from rows[state[0]] to out[state[1]], until a row the JavaScript
 * must write (or one out may lack room for); then returns true with state at that row's start. At
 * the end returns false with state[0] = rows.length.
 */
static napi_value EventLines(napi_env env, napi_callback_info info) {
  return eventRecords(env, info, eventLine, "eventLines(rows, out, state)");
}

/* csvLines(rows: Uint8Array, out: Uint8Array, state: Uint32Array): as eventLines, the CSV record of each row. */
static napi_value CsvLines(napi_env env, napi_callback_info info) {
  return eventRecords(env, info, csvLine, "csvLines(rows, out, state)");
}

NAPI_MODULE_INIT() {
  napi_value version, tidy, lines;
  napi_create_uint32(env, API_VERSION, &version);
  napi_set_named_property(env, exports, "version", version);
  napi_create_function(env, "tidyCsvRows", NAPI_AUTO_LENGTH, TidyCsvRows, NULL, &tidy);
  napi_set_named_property(env, exports, "tidyCsvRows", tidy);
  napi_value csvLines;
  napi_create_function(env, "csvLines", NAPI_AUTO_LENGTH, CsvLines, NULL, &csvLines);
  napi_set_named_property(env, exports, "csvLines", csvLines);
  napi_create_function(env, "eventLines", NAPI_AUTO_LENGTH, EventLines, NULL, &lines);
  napi_set_named_property(env, exports, "eventLines", lines);
  return exports;
}
