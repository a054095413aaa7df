/**
 * A checkpoint as logs serve it once witnessed: the log's signed note with the witnesses'
 * cosignature lines appended (c2sp.org/tlog-witness: the client "can move the valid signatures to
 * its own view of the checkpoint"). Clients that know a witness's key check its line; others ignore
 * it (c2sp.org/signed-note: unknown signatures are skipped).
 */

/** `note` followed by each signature line not already in it, in the order given. */
export function withCosignatures(note: string, signatureLines: readonly string[]): string {
  const present = new Set(note.slice(note.lastIndexOf('\n\n') + 2).split('\n'));
  let merged = note;
  for (const raw of signatureLines) {
    const line = raw.endsWith('\n') ? raw.slice(0, -1) : raw;
    if (line === '' || line.includes('\n') || present.has(line)) continue;
    present.add(line);
    merged += `${line}\n`;
  }
  return merged;
}
