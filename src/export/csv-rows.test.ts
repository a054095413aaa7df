import { describe, expect, it } from 'vitest';
import { csvCell } from './csv.ts';
import { tidyCsvRows } from './csv-rows.ts';
import { nativeTidy } from './native-tidy.ts';

/** A row as PostgreSQL writes it (jsonb_out's spacing) for the kinds raw, plain, text, json. */
const pgRow = (raw: string, plain: string | null, text: string | null, json: unknown) =>
  `${[raw, plain ?? '', text === null ? '' : JSON.stringify(text), json === null ? '' : JSON.stringify(json, null, 1).replace(/\n */g, ' ')].join('\x1f')}\x1e`;
const KINDS = ['raw', 'plain', 'text', 'json'] as const;

// Written by the native addon where it is built, and by the JavaScript alone.
const writers = [['JavaScript', null], ...(nativeTidy ? [['native', nativeTidy] as const] : [])] as const;

describe.each(writers)('tidyCsvRows (%s)', (_name, native) => {
  it("writes csvCell's cells, growing its output when quotes double past what the spaces saved", () => {
    const wide = Array.from({ length: 3000 }, () => '');
    const rows = [
      ['2026-11-22T10:00:00.000Z', 'Ada', 'plain', { a: [1, 'two', null] }],
      ['x', 'Lovelace, Ada', 'with, comma', wide],
      ['y', '=1+1', '=formula, with comma', null],
      ['z', "'=x", "'apostrophe", { q: 'say "hi"' }],
      ['w', 'say "hi"', 'tab\tand "quote"', { 10: 'index key', 1e21: 1e21 }],
      ['u', '-', 'São Paulo 😀', []],
      ['v', null, null, null],
    ] as const;
    const input = Buffer.from(rows.map(([r, p, t, j]) => pgRow(r, p, t, j)).join(''));
    const cell = (v: string | null) => (v === null ? '' : csvCell(v));
    const expected = rows.map(([r, p, t, j]) => `${r},${cell(p)},${cell(t)},${j === null ? '' : csvCell(JSON.stringify(j))}\r\n`).join('');
    expect(expected.length).toBeGreaterThan(input.length + 1024);
    expect(tidyCsvRows(input, KINDS, csvCell, native).toString()).toBe(expected);
  });

  it('refuses rows that are not in the expected form', () => {
    expect(() => tidyCsvRows(Buffer.from('a,b\x1e'), ['raw', 'raw'], csvCell, native)).toThrow(/end of cell 0/);
    expect(() => tidyCsvRows(Buffer.from('a\x1fb\x1fc\x1e'), ['raw', 'raw'], csvCell, native)).toThrow(/row to end/);
    expect(() => tidyCsvRows(Buffer.from('a\x1fb\r\n'), ['raw', 'raw'], csvCell, native)).toThrow(/row to end/);
    expect(() => tidyCsvRows(Buffer.from('a\x1fcut'), ['raw', 'plain'], csvCell, native)).toThrow(/cut short/);
    expect(() => tidyCsvRows(Buffer.from('a\x1f"cut'), ['raw', 'text'], csvCell, native)).toThrow(/cut short/);
    expect(() => tidyCsvRows(Buffer.from('a\x1f{"k": "cut'), ['raw', 'json'], csvCell, native)).toThrow(/cut short/);
  });
});
