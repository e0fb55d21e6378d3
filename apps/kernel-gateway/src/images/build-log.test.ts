import { describe, expect, it } from 'vitest';
import { BuildLog } from './build-log.ts';

describe('build log', () => {
  it('hands out what is new since an offset', () => {
    const log = new BuildLog(1000);
    log.append('one\n');
    const first = log.read(0, false);
    log.append('two\n');
    expect(first.text).toBe('one\n');
    expect(log.read(first.next, false)).toEqual({ text: 'two\n', next: 8 });
  });

  it('keeps the head and the tail of a huge log, saying how much it left out', () => {
    const log = new BuildLog(100, 20);
    for (let i = 0; i < 1000; i++) log.append(`line ${i}\n`);
    expect(log.read(0, false).text.length).toBe(100);
    const final = log.read(0, true).text;
    expect(final.startsWith('line 0\n')).toBe(true);
    expect(final).toMatch(/characters of build output left out/);
    expect(final.endsWith('line 999\n')).toBe(true);
    expect(final.length).toBeLessThan(250);
  });

  it("sums up a failure with apt's and pip's error lines", () => {
    const log = new BuildLog(10_000);
    log.append('Reading package lists...\nE: Unable to locate package nope\nmore noise\n');
    expect(log.errorSummary()).toBe('E: Unable to locate package nope');
  });
});
