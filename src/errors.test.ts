import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_STATUS, TrailproofError } from './errors.ts';

describe('error codes', () => {
  it('are all documented in docs/errors.md with their HTTP status', () => {
    const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    for (const [code, status] of Object.entries(ERROR_STATUS)) {
      expect(doc, code).toMatch(new RegExp(`\\| \`${code}\` \\| ${status} \\|`));
    }
  });

  it('serialise as { error: { code, message, details } } with the status of their code', () => {
    const err = new TrailproofError('EVENT_INVALID', 'bad', { details: [{ pointer: '/action', code: 'pattern', message: 'm' }] });
    expect(err.status).toBe(400);
    expect(err.toJSON()).toEqual({ error: { code: 'EVENT_INVALID', message: 'bad', details: [{ pointer: '/action', code: 'pattern', message: 'm' }] } });
  });
});
