/** The client's event types are generated from the server's schema; this fails when the checked-in file is stale. */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OUTPUT, generate } from '../../packages/client/scripts/event-types.ts';

describe('packages/client/src/event-types.ts', () => {
  it('matches what packages/client/scripts/event-types.ts generates from src/event/schema.ts', () => {
    expect(fs.readFileSync(OUTPUT, 'utf8'), 'stale: run npx tsx packages/client/scripts/event-types.ts').toBe(generate());
  });

  it('carries every top-level field of the schema', () => {
    const text = generate();
    for (const field of ['id', 'tenant', 'action', 'occurred_at', 'actor', 'targets', 'outcome', 'reason', 'context', 'changes', 'metadata']) {
      expect(text).toMatch(new RegExp(`\\n  ${field}\\??: `));
    }
  });
});
