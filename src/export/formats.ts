/** Every export format by name: what `format=` and `--format` accept (plus `bundle`, see bundle.ts). */
import { cef } from './cef.ts';
import { csv } from './csv.ts';
import { ecs } from './ecs.ts';
import type { EventFormat } from './format.ts';
import { hec } from './hec.ts';
import { jsonl } from './jsonl.ts';
import { ocsf } from './ocsf.ts';
import { syslog } from './syslog.ts';

export const EVENT_FORMATS: ReadonlyMap<string, EventFormat> = new Map([jsonl, csv, cef, syslog, ecs, hec, ocsf].map((f) => [f.name, f]));
