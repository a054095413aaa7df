import { describe, expect, it } from 'vitest';
import { csvCell } from './csv.ts';
import { tidyCsvRows } from './csv-rows.ts';

/** A row as PostgreSQL writes it (jsonb_out's spacing) for the kinds raw, text, json. */
const pgRow = (raw: string, text: string | null, json: unknown) =>
  `${raw},${text === null ? '' : JSON.stringify(text)},${json === null ? '' : JSON.stringify(json, null, 1).replace(/\n */g, ' ')}\r\n`;

describe('tidyCsvRows', () => {
  it('writes csvCell\'s cells, growing its output when quotes double past what the spaces saved', () => {
    const wide = Array.from({ length: 3000 }, () => '');
    const rows = [
      ['2026-11-22T10:00:00.000Z', 'plain', { a: [1, 'two', null] }],
      ['x', 'with, comma', wide],
      ['y', '=formula, with comma', null],
      ['z', "'apostrophe", { q: 'say "hi"' }],
      ['w', 'tab\tand "quote"', { 10: 'index key', 1e21: 1e21 }],
      ['v', null, null],
    ] as const;
    const input = Buffer.from(rows.map(([r, t, j]) => pgRow(r, t, j)).join(''));
    const expected = rows.map(([r, t, j]) => `${r},${t === null ? '' : csvCell(t)},${j === null ? '' : csvCell(JSON.stringify(j))}\r\n`).join('');
    expect(expected.length).toBeGreaterThan(input.length + 1024);
    expect(tidyCsvRows(input, ['raw', 'text', 'json'], csvCell).toString()).toBe(expected);
  });

  it('refuses rows that are not in the expected form', () => {
    expect(() => tidyCsvRows(Buffer.from('a;b\r\n'), ['raw', 'raw'], csvCell)).toThrow(/comma/);
    expect(() => tidyCsvRows(Buffer.from('a,b\n'), ['raw', 'raw'], csvCell)).toThrow(/CRLF/);
    expect(() => tidyCsvRows(Buffer.from('a,"cut'), ['raw', 'text'], csvCell)).toThrow(/cut short/);
    expect(() => tidyCsvRows(Buffer.from('a,{"k": "cut'), ['raw', 'json'], csvCell)).toThrow(/cut short/);
  });
});
