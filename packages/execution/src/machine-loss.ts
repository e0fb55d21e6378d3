import { findCell, type OutputWriter } from '@kiln/notebook';
import * as Y from 'yjs';
import type { KernelStatus } from './types.ts';

/** What the kernel bar says once a kernel whose machine was lost is connected again. */
export const BACK = 'The kernel is back: its machine returned and kept it running, with its variables.';

/** Written in the cell that was running when the kernel's machine was lost, once it is back. */
const CELL_BACK =
  'The kernel is back: its machine returned and kept it running, with its variables. What this cell printed while the machine was away is not shown; run it again if you need its output.';

/**
 * A kernel whose machine the scheduler declared lost but which may come back with it (a gateway
 * restart slower than the node timeout). While it is away the kernel link neither gives the kernel up
 * when its gateway does not answer nor starts another in its place, and the queue waits for it.
 */
export class MachineLoss {
  private why: string | null = null;

  /** Why the kernel is away (what the kernel bar says), or null when it is not. */
  get reason(): string | null {
    return this.why;
  }

  /** The scheduler lost the kernel's machine. */
  away(reason: string): void {
    this.why = reason;
  }

  /** The machine came back with the kernel, the kernel was given up, or it is gone anyway. */
  end(): void {
    this.why = null;
  }

  /** Whether the kernel still waits for its machine (and is not connected meanwhile). */
  waiting(status: KernelStatus): boolean {
    return this.why !== null && status === 'reconnecting';
  }

  /** Why a run cannot reach the kernel while it is away, and what the user can do. */
  get runRefusal(): string {
    return `${this.why} Run the cell again once it is back, or restart the kernel to start a new one.`;
  }
}

/**
 * The cell that was running when the kernel's machine was lost, once it is back: the KernelDied it got
 * is replaced by a note that the kernel is back (the output it printed meanwhile is not shown).
 */
export function noteKernelBack(doc: Y.Doc, cellId: string, writer: OutputWriter): void {
  const outputs = findCell(doc, cellId)?.get('outputs');
  if (outputs instanceof Y.Array) {
    for (let index = outputs.length - 1; index >= 0; index--) {
      const output = outputs.get(index);
      if (output instanceof Y.Map && output.get('ename') === 'KernelDied') {
        outputs.delete(index, 1);
        break;
      }
    }
  }
  writer.handle({ header: { msg_type: 'stream' }, content: { name: 'stderr', text: `${CELL_BACK}\n` } });
}
