/**
 * RFC 8785 (JCS) canonical JSON, for the browser: the bytes the server hashed. Keys sorted by UTF-16
 * code units (§3.2.3, what Array.prototype.sort does for strings), strings and numbers as
 * ECMAScript's JSON.stringify writes them (§3.2.2). Tested against the `canonicalize` package.
 */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return jsonString(value);
    case 'number':
      if (!Number.isFinite(value)) throw new Error(`${value} has no JSON form`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return `[${value.map((item: unknown) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
      const object = value as Record<string, unknown>;
      const members = Object.keys(object)
        .sort()
        .filter((key) => object[key] !== undefined)
        .map((key) => `${jsonString(key)}:${canonicalJson(object[key])}`);
      return `{${members.join(',')}}`;
    }
    default:
      throw new Error(`a ${typeof value} has no JSON form`);
  }
}

function jsonString(value: string): string {
  // JSON.stringify escapes lone surrogates (ES2019 well-formed stringify); JCS has no form for them.
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value)) throw new Error('a string holds a lone surrogate');
  return JSON.stringify(value);
}
