/** A CEF reader for tests (export formats, syslog destination): what a SIEM's CEF parser does. */

/** CEF extension pairs: a key is a word followed by an unescaped `=`, preceded by a space. */
export function cefExtension(line: string): Record<string, string> {
  // Skip the 7 header fields: split on unescaped pipes.
  let fields = 0;
  let i = 0;
  for (; i < line.length && fields < 7; i++) {
    if (line[i] === '\\') i++;
    else if (line[i] === '|') fields++;
  }
  const ext = line.slice(i);
  const out: Record<string, string> = {};
  const keyAt = /(?:^| )([A-Za-z0-9_]+)=/g;
  const keys: { key: string; start: number; valueStart: number }[] = [];
  for (let m = keyAt.exec(ext); m; m = keyAt.exec(ext)) {
    // An escaped `\=` inside a value is not a key boundary.
    if (ext[m.index + m[0].length - 2] === '\\') continue;
    keys.push({ key: m[1]!, start: m.index, valueStart: m.index + m[0].length });
  }
  keys.forEach((k, n) => {
    const raw = ext.slice(k.valueStart, keys[n + 1]?.start ?? ext.length);
    out[k.key] = raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c));
  });
  return out;
}

/** The 7 header fields (`CEF:0`, vendor, product, version, signature id, name, severity), unescaped. */
export function cefHeader(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  for (let i = 0; i < line.length && fields.length < 7; i++) {
    if (line[i] === '\\') current += line[++i];
    else if (line[i] === '|') {
      fields.push(current);
      current = '';
    } else current += line[i];
  }
  return fields;
}
