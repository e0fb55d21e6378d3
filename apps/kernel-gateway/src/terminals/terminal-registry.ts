import { DomainError } from '@kiln/core';
import type { Kernel } from '../kernels/kernel.ts';
import type { KernelRegistry } from '../kernels/kernel-registry.ts';
import type { TerminalPty } from '../sandbox/types.ts';

const SCROLLBACK_BYTES = 64 * 1024;

/** A shell running inside one kernel's sandbox. */
export interface Terminal {
  name: string;
  workspaceId: string;
  kernelId: string;
  pty: TerminalPty;
  lastActivity: Date;
  scrollback: string;
  listeners: Set<(event: ['stdout', string] | ['disconnect', number]) => void>;
}

/** Terminals keyed by name (Jupyter's "1", "2", ...), scoped per workspace; they die with their kernel. */
export class TerminalRegistry {
  private readonly terminals = new Map<string, Terminal>();
  private counter = 0;

  constructor(private readonly kernels: KernelRegistry) {
    kernels.onRemoved((kernel) => {
      for (const terminal of [...this.terminals.values()]) {
        if (terminal.kernelId === kernel.id) this.remove(terminal);
      }
    });
  }

  model(terminal: Terminal) {
    return {
      name: terminal.name,
      last_activity: terminal.lastActivity.toISOString(),
      kernel_id: terminal.kernelId,
    };
  }

  list(workspaceId: string): Terminal[] {
    return [...this.terminals.values()].filter((terminal) => terminal.workspaceId === workspaceId);
  }

  get(workspaceId: string, name: string): Terminal {
    const terminal = this.terminals.get(name);
    if (!terminal || terminal.workspaceId !== workspaceId) {
      throw new DomainError('NOT_FOUND', `Terminal not found: ${name}`);
    }
    return terminal;
  }

  /** Opens a shell in the named kernel's sandbox, or in the workspace's most recently active live kernel. */
  create(workspaceId: string, options: { kernelId?: string; cols: number; rows: number }): Terminal {
    const kernel = options.kernelId
      ? this.kernels.get(workspaceId, options.kernelId)
      : this.latestKernel(workspaceId);
    if (kernel.isDead)
      throw new DomainError('KERNEL_DEAD', `The kernel is dead: ${kernel.reason ?? 'stopped'}`);
    let pty: TerminalPty;
    try {
      pty = kernel.openTerminal(options.cols, options.rows);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new DomainError('SANDBOX_FAILED', `Could not open a terminal in the kernel sandbox: ${reason}`);
    }
    this.counter += 1;
    const terminal: Terminal = {
      name: String(this.counter),
      workspaceId,
      kernelId: kernel.id,
      pty,
      lastActivity: new Date(),
      scrollback: '',
      listeners: new Set(),
    };
    terminal.pty.onData((data) => {
      terminal.lastActivity = new Date();
      terminal.scrollback = (terminal.scrollback + data).slice(-SCROLLBACK_BYTES);
      for (const listener of terminal.listeners) listener(['stdout', data]);
    });
    terminal.pty.onExit((code) => {
      for (const listener of terminal.listeners) listener(['disconnect', code]);
      this.terminals.delete(terminal.name);
    });
    this.terminals.set(terminal.name, terminal);
    return terminal;
  }

  delete(workspaceId: string, name: string): void {
    this.remove(this.get(workspaceId, name));
  }

  close(): void {
    for (const terminal of [...this.terminals.values()]) this.remove(terminal);
  }

  private remove(terminal: Terminal): void {
    this.terminals.delete(terminal.name);
    for (const listener of terminal.listeners) listener(['disconnect', 0]);
    terminal.listeners.clear();
    try {
      terminal.pty.kill();
    } catch {
      // Already gone with its sandbox.
    }
  }

  private latestKernel(workspaceId: string): Kernel {
    const live = this.kernels
      .list(workspaceId)
      .filter((kernel) => !kernel.isDead)
      .sort((a, b) => b.lastActivity.getTime() - a.lastActivity.getTime());
    const kernel = live[0];
    if (!kernel) {
      throw new DomainError('CONFLICT', 'Start a kernel first: a terminal runs inside a kernel sandbox');
    }
    return kernel;
  }
}
