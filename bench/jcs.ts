/**
 * RFC 8785 canonicalisation cost per demo event: our canonicaliser against the reference package.
 *   npx tsx bench/jcs.ts
 */
import canonicalize from 'canonicalize';
import { demoEvents } from '../src/demo/generator.ts';
import { canonicalJson } from '../src/ledger/jcs.ts';
import { round, writeResult } from './lib.ts';

const n = 20_000;
const bodies = [...demoEvents(n, { from: new Date(Date.now() - 86_400_000), to: new Date() })];
const time = (f: (b: unknown) => unknown) => {
  const t = performance.now();
  for (const b of bodies) f(b);
  return ((performance.now() - t) * 1000) / n;
};
// Warm both up first: the first rounds measure the JIT, not the code.
for (let i = 0; i < 3; i++) {
  time(canonicalize);
  time(canonicalJson);
}
const reference = round(time(canonicalize));
const ours = round(time(canonicalJson));
process.stdout.write(`canonicalize ${reference} µs/event, canonicalJson ${ours} µs/event (${round(reference / ours, 1)}×)\n`);
await writeResult('jcs', { events: n, canonicalizeMicros: reference, canonicalJsonMicros: ours });
