import { describe, expect, it } from 'vitest';
import { createCauseLog } from './cause-log.ts';

describe('cause log', () => {
  it('logs one line per cause per window, then how often it repeated', () => {
    const lines: string[] = [];
    let now = 0;
    const log = createCauseLog({ windowMs: 60_000, log: (line) => lines.push(line), clock: () => now });
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    for (let i = 0; i < 50; i++) log('notebook connections refused', refused);
    log('collab store failed', new Error('disk full\n    at stack'));
    now = 61_000;
    log('notebook connections refused', refused);
    expect(lines).toEqual([
      'notebook connections refused: the database is unavailable',
      'collab store failed: Error: disk full',
      'notebook connections refused: the database is unavailable (49 more since the last report)',
    ]);
  });
});
