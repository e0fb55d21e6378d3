import type { JupyterMessage } from '@kiln/kernel-protocol/client';
import type { KernelConnection } from './types.ts';

/** The last few hundred quiet ids are remembered: a request's idle status can come after its reply. */
const REMEMBERED = 256;

/**
 * Shell requests that change nothing collaborators see (completion, inspection, the wake-up after a
 * pause): their replies go back to whoever asked, and nothing they cause (their busy/idle statuses
 * included) reaches the kernel status or the notebook, except a death, which must always get through.
 */
export class QuietRequests {
  /** Replies awaited by `ask`, by request msg_id. */
  private readonly replies = new Map<string, (reply: JupyterMessage | null) => void>();
  private readonly ids = new Set<string>();

  /** Sends `request` on `channel` without waiting for its reply. */
  send(channel: KernelConnection, request: JupyterMessage): void {
    this.remember(request.header.msg_id);
    channel.send(request);
  }

  /** Sends `request` on `channel`; resolves with its reply, or null after `timeoutMs` or when the connection goes. */
  ask(channel: KernelConnection, request: JupyterMessage, timeoutMs: number): Promise<JupyterMessage | null> {
    const id = request.header.msg_id;
    this.remember(id);
    return new Promise((resolve) => {
      const settle = (reply: JupyterMessage | null) => {
        clearTimeout(timer);
        this.replies.delete(id);
        resolve(reply);
      };
      const timer = setTimeout(() => settle(null), timeoutMs);
      this.replies.set(id, settle);
      channel.send(request);
    });
  }

  /** True when `message` belongs to a quiet request and was taken (a shell reply goes to its asker). */
  take(message: JupyterMessage): boolean {
    const parent = message.parent_header.msg_id as string | undefined;
    // A death is reported under whatever request was current, a completion included: it must get through.
    if (!parent || !this.ids.has(parent) || isDeath(message)) return false;
    if (message.channel === 'shell') this.replies.get(parent)?.(message);
    return true;
  }

  /** The connection went: every awaited reply resolves null. */
  abandon(): void {
    for (const settle of [...this.replies.values()]) settle(null);
  }

  private remember(id: string): void {
    this.ids.add(id);
    if (this.ids.size > REMEMBERED) this.ids.delete(this.ids.values().next().value as string);
  }
}

function isDeath(message: JupyterMessage): boolean {
  if (message.channel !== 'iopub') return false;
  const type = message.header.msg_type;
  return (
    (type === 'status' && message.content.execution_state === 'dead') ||
    (type === 'error' && message.content.ename === 'KernelDied')
  );
}
