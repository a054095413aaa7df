/** Every export format by name: what `format=` and `--format` accept (plus `bundle`, see bundle.ts). */
import { TrailproofError } from '../errors.ts';
import { BUNDLE_EXPORT } from './bundle-export.ts';
import { cef } from './cef.ts';
import { csv } from './csv.ts';
import { ecs } from './ecs.ts';
import type { EventFormat } from './format.ts';
import { hec } from './hec.ts';
import { jsonl } from './jsonl.ts';
import { ocsf } from './ocsf.ts';
import { syslog } from './syslog.ts';

export const EVENT_FORMATS: ReadonlyMap<string, EventFormat> = new Map([jsonl, csv, cef, syslog, ecs, hec, ocsf].map((f) => [f.name, f]));

/** The error for a `format` that names no export format (the CLI and the API say the same). */
export function unknownFormat(name: unknown): TrailproofError {
  const message = `format must be one of ${[...EVENT_FORMATS.keys(), BUNDLE_EXPORT.name].join(', ')}`;
  return new TrailproofError('QUERY_INVALID', typeof name === 'string' ? `unknown format "${name}": ${message}` : message, {
    details: [{ pointer: '/format', code: name === undefined ? 'required' : 'invalid_enum', message }],
  });
}
