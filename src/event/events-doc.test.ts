/**
 * docs/events.md is the users' reference for the event model: its examples, error codes and limits
 * must be what the code does. These tests read the page and hold it to validate.ts and limits.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EVENT_LIMITS } from './limits.ts';
import { EVENT_ERROR_CODES, validateBatch, validateEvent } from './validate.ts';

const doc = readFileSync(new URL('../../docs/events.md', import.meta.url), 'utf8');
const now = new Date('2026-11-22T10:00:00Z');

/** The JSON code block that follows `<!-- example: name -->`. */
function example(name: string): unknown {
  const match = new RegExp(`<!-- example: ${name} -->\\s*\`\`\`json\\n([\\s\\S]*?)\\n\`\`\``).exec(doc);
  if (match?.[1] === undefined) throw new Error(`docs/events.md has no example "${name}"`);
  return JSON.parse(match[1]);
}

/** Rows of the markdown table whose header row starts with `| first |`. */
function tableRows(first: string): string[][] {
  const lines = doc.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`| ${first} |`));
  if (start < 0) throw new Error(`docs/events.md has no table starting with "${first}"`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.split(' | ').map((cell) => cell.replace(/^\|\s*|\s*\|$/g, '').trim()));
  }
  return rows;
}

describe('docs/events.md', () => {
  it('shows a valid event and its stored form', () => {
    const result = validateEvent(example('event'), { now });
    expect(result.ok && result.body).toStrictEqual(example('normalized'));
  });

  it('shows a batch and the rejected part of its response', () => {
    const result = validateBatch(example('batch'), { now });
    const response = example('batch-response') as { accepted: { index: number }[]; rejected: unknown[] };
    expect(result.accepted.map((a) => a.index)).toEqual(response.accepted.map((a) => a.index));
    expect(result.rejected).toEqual(response.rejected);
  });

  it('shows the exact error details of the invalid event', () => {
    const result = validateEvent(example('invalid-event'), { now });
    const response = example('error-response') as { error: { code: string; details: unknown[] } };
    expect(response.error.code).toBe('EVENT_INVALID');
    expect(result.ok ? [] : result.errors).toEqual(response.error.details);
  });

  it('lists every field error code, and no other', () => {
    const codes = tableRows('code').map(([code]) => code?.replace(/`/g, ''));
    expect([...codes].sort()).toEqual([...EVENT_ERROR_CODES].sort());
  });

  it('lists every limit with its value', () => {
    const documented = Object.fromEntries(tableRows('limit').map(([name, value]) => [name?.replace(/`/g, ''), value?.replace(/`/g, '')]));
    const actual = Object.fromEntries(Object.entries(EVENT_LIMITS).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : String(value)]));
    expect(documented).toEqual(actual);
  });
});
