import type { JupyterMessage } from '@kiln/kernel-protocol/client';
import type { CellRun, Outcome } from './cell-run.ts';
import type { KernelLink } from './kernel-link.ts';

/** The cell a notebook session runs now, and how to end it. */
export interface RunningCell {
  run: CellRun;
  finish(outcome: Outcome): void;
}

export interface ResumeProbeOptions {
  link: Pick<KernelLink, 'message' | 'send'>;
  /** The cell running now, if any. */
  running(): RunningCell | null;
  /** Writes into the document (the note of a lost ending). */
  write(change: () => void): Promise<void>;
}

/**
 * After a restarted web process re-attaches to a running cell: the kernel's shell is serial, so the
 * reply to a kernel_info_request sent now comes after the running cell's reply. If it arrives and that
 * reply never did (the gateway's replay lost it), the cell ends with a note instead of showing
 * `running` forever.
 */
export class ResumeProbe {
  /** The kernel_info_request sent after re-attaching to a running cell, and that cell's msg_id. */
  private probe: { msgId: string; runMsgId: string } | null = null;

  constructor(private readonly options: ResumeProbeOptions) {}

  /** Sends the probe behind the re-attached cell `runMsgId`. */
  send(runMsgId: string): void {
    try {
      const request = this.options.link.message('shell', 'kernel_info_request', {});
      this.probe = { msgId: request.header.msg_id, runMsgId };
      this.options.link.send(request);
    } catch {
      // No channel: the kernel-lost path reports it.
    }
  }

  /** Takes a kernel message answering the probe (true); any other is left to the caller (false). */
  take(message: JupyterMessage, parent: string): boolean {
    if (!this.probe || parent !== this.probe.msgId) return false;
    if (message.channel === 'shell') this.answered(this.probe.runMsgId);
    return true;
  }

  private answered(runMsgId: string): void {
    this.probe = null;
    const running = this.options.running();
    // Usually the cell's own reply came first and it is over; only a cell still waiting lost it.
    if (running?.run.msgId !== runMsgId) return;
    const outcome = running.run.replied;
    if (outcome) {
      running.finish(outcome);
      return;
    }
    void this.options.write(() =>
      running.run.writer.handle({
        header: { msg_type: 'stream' },
        content: {
          name: 'stderr',
          text: '\n[kiln] The end of this cell’s output was lost while Kiln restarted; the cells queued after it were not run.\n',
        },
      }),
    );
    running.finish('error');
  }
}
