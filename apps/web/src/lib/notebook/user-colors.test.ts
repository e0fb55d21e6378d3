import { describe, expect, it } from 'vitest';
import { colorForUser, initials, safeColor, USER_COLORS } from './user-colors.ts';

describe('user colours', () => {
  it('gives a user the same colour every time, from the palette', () => {
    const id = '5b0e1f7e-6a8e-4a57-9c1e-0d0b3c9b1a11';
    expect(colorForUser(id)).toBe(colorForUser(id));
    expect(USER_COLORS).toContain(colorForUser(id));
  });

  it('spreads many users over most of the palette', () => {
    const used = new Set(Array.from({ length: 200 }, (_, i) => colorForUser(`user-${i}`)));
    expect(used.size).toBeGreaterThanOrEqual(USER_COLORS.length - 1);
  });

  it('makes initials from names, including single names and non-Latin letters', () => {
    expect(initials('Ada Lovelace')).toBe('AL');
    expect(initials('  grace  ')).toBe('G');
    expect(initials('Élodie von Trapp')).toBe('ÉT');
    expect(initials('')).toBe('?');
  });

  it('never lets a peer inject CSS through its colour', () => {
    expect(safeColor('#ABCDEF')).toBe('#ABCDEF');
    expect(safeColor('red;} body{display:none')).toBe('#6b7280');
    expect(safeColor(42)).toBe('#6b7280');
  });
});
