import { describe, expect, it } from 'vitest';
import { commandName } from './command-name.ts';

describe('commandName', () => {
  it("is the first argument that is neither an option nor a global option's value", () => {
    expect(commandName(['verify', 'b.jsonl', '--key', 'k'])).toBe('verify');
    expect(commandName(['--data-dir', '/tmp/d', 'export', '--format', 'csv'])).toBe('export');
    expect(commandName(['--database-url', 'postgres://x', '--data-dir', 'd', 'serve'])).toBe('serve');
    expect(commandName(['--data-dir=/tmp/d', 'keys', 'list'])).toBe('keys');
  });

  it('is undefined when no command is named', () => {
    expect(commandName([])).toBeUndefined();
    expect(commandName(['--help'])).toBeUndefined();
    expect(commandName(['--data-dir', 'verify'])).toBeUndefined(); // "verify" is the directory here
  });
});
