/** The escaping rules of each format, case by case (the contract suite checks the round trip). */
import { describe, expect, it } from 'vitest';
import { cefHeader, cefValue } from './cef.ts';
import { csvCell } from './csv.ts';
import { octetCounted, sdValue } from './syslog.ts';

describe('CSV cells (RFC 4180, OWASP CSV injection)', () => {
  it.each([
    ['=1+2', "'=1+2"],
    ['+1', "'+1"],
    ['-1', "'-1"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', "'\tx"],
    ['\rx', '"\'\rx"'],
    ["'=already", "''=already"],
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['', ''],
  ])('%j → %j', (value, cell) => expect(csvCell(value)).toBe(cell));
});

describe('CEF', () => {
  it('escapes backslash and pipe in header fields, and folds line breaks', () => {
    expect(cefHeader('a|b\\c\nd')).toBe('a\\|b\\\\c d');
  });
  it('escapes backslash, equals and line breaks in extension values', () => {
    expect(cefValue('a=b\\c\nd\re|f')).toBe('a\\=b\\\\c\\nd\\re|f');
  });
  it('writes the breaks CEF has no escape for (VT, FF, NEL, LS, PS) as \\n, and folds them in header fields', () => {
    expect(cefValue('a\vb\fc\u0085d\u2028e\u2029f\r\ng')).toBe('a\\nb\\nc\\nd\\ne\\nf\\r\\ng');
    expect(cefHeader('a\u2028b\u0085c')).toBe('a b c');
  });
});

describe('syslog', () => {
  it('escapes ", \\ and ] in PARAM-VALUE (RFC 5424 §6.3.3)', () => {
    expect(sdValue('a"b\\c]d=e')).toBe('a\\"b\\\\c\\]d=e');
  });
  it('frames by octets, not characters (RFC 6587 §3.4.1)', () => {
    expect(octetCounted('é🙂')).toBe('6 é🙂');
  });
});
