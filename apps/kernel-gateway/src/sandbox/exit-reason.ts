import { PIDS_LIMIT } from './oci-spec.ts';
import type { ContainerExit } from './runsc-container.ts';
import type { ExitReason } from './types.ts';

const SIGNALS: Record<number, string> = { 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 15: 'SIGTERM' };

/** Explains an unexpected container exit in words a notebook user can act on. */
export function describeExit(exit: ContainerExit, memoryMiB: number): ExitReason {
  if (exit.memoryLimitHit) {
    return {
      kind: 'oom',
      message: `ran out of memory: limit ${memoryMiB} MiB. Restart the kernel, or ask for more memory.`,
      code: exit.status,
    };
  }
  if (exit.pidsLimitHit) {
    return {
      kind: 'killed',
      message: `started too many processes: limit ${PIDS_LIMIT}. The sandbox was stopped; restart the kernel.`,
      code: exit.status,
    };
  }
  const lastLine = exit.logTail.trim().split('\n').slice(-1)[0] ?? '';
  if (exit.status === 0) return { kind: 'exited', message: 'the kernel exited', code: 0 };
  if (exit.status !== null && exit.status > 128) {
    const signal = SIGNALS[exit.status - 128] ?? `signal ${exit.status - 128}`;
    return { kind: 'killed', message: `the kernel was killed (${signal})`, code: exit.status };
  }
  if (exit.status === null) {
    return {
      kind: 'crashed',
      message: `the sandbox stopped unexpectedly${lastLine ? `: ${lastLine}` : ''}`,
      code: null,
    };
  }
  return {
    kind: 'crashed',
    message: `the kernel crashed with exit code ${exit.status}${lastLine ? `: ${lastLine}` : ''}`,
    code: exit.status,
  };
}
