import { describe, expect, it } from 'vitest';
import { canMove } from './transition.ts';

describe('container states', () => {
  it('lets a lost container come back as it was, or be given up, and nothing else', () => {
    expect(canMove('lost', 'running')).toBe(true);
    expect(canMove('lost', 'hibernated')).toBe(true);
    expect(canMove('lost', 'stopped')).toBe(true);
    expect(canMove('lost', 'starting')).toBe(false);
    expect(canMove('lost', 'queued')).toBe(false);
    expect(canMove('lost', 'lost')).toBe(false);
  });

  it('keeps stopped final', () => {
    for (const to of ['queued', 'starting', 'running', 'hibernated', 'lost'] as const)
      expect(canMove('stopped', to)).toBe(false);
  });
});
