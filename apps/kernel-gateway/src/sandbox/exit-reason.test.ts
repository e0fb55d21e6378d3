import { describe, expect, it } from 'vitest';
import { describeExit } from './exit-reason.ts';

describe('describeExit', () => {
  it('names the memory limit when the cgroup hit it', () => {
    expect(
      describeExit({ status: null, memoryLimitHit: true, pidsLimitHit: false, logTail: '' }, 2048),
    ).toMatchObject({
      kind: 'oom',
      message: expect.stringContaining('ran out of memory: limit 2048 MiB'),
    });
  });

  it('names the process limit after a fork bomb', () => {
    expect(
      describeExit({ status: null, memoryLimitHit: false, pidsLimitHit: true, logTail: '' }, 512).message,
    ).toMatch(/too many processes: limit 512/);
  });

  it('tells signals, clean exits and crashes apart', () => {
    expect(
      describeExit({ status: 137, memoryLimitHit: false, pidsLimitHit: false, logTail: '' }, 512).message,
    ).toBe('the kernel was killed (SIGKILL)');
    expect(
      describeExit({ status: 0, memoryLimitHit: false, pidsLimitHit: false, logTail: '' }, 512).kind,
    ).toBe('exited');
    expect(
      describeExit(
        { status: 70, memoryLimitHit: false, pidsLimitHit: false, logTail: 'Traceback\nValueError: boom' },
        512,
      ),
    ).toEqual({
      kind: 'crashed',
      message: 'the kernel crashed with exit code 70: ValueError: boom',
      code: 70,
    });
  });
});
