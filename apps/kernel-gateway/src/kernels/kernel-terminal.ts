import type { TerminalPty } from '../sandbox/types.ts';

export interface KernelTerminalOptions {
  /** Opens the pty in the sandbox; may only be called once the sandbox runs. */
  open: () => TerminalPty;
  /** Resolves when the sandbox runs again (a hibernated kernel waking); absent when it runs now. */
  ready?: Promise<void>;
  /** Called once, when the terminal exits or is killed. */
  onClosed: () => void;
}

/**
 * A kernel's terminal that tells the kernel when it closes (a kernel with an open terminal stays
 * awake). If the kernel is waking from hibernation, the shell opens once it is back; what the user
 * types meanwhile is kept and sent then.
 */
export function openKernelTerminal(options: KernelTerminalOptions): TerminalPty {
  const dataListeners = new Set<(data: string) => void>();
  const exitListeners = new Set<(code: number) => void>();
  let pty: TerminalPty | undefined;
  let typed: string[] = [];
  let size: [number, number] | undefined;
  let closed = false;

  const emit = (data: string) => {
    for (const listener of dataListeners) listener(data);
  };
  const close = (code: number) => {
    if (closed) return;
    closed = true;
    options.onClosed();
    for (const listener of exitListeners) listener(code);
  };
  const attach = (opened: TerminalPty) => {
    pty = opened;
    opened.onData(emit);
    opened.onExit(close);
    if (size) opened.resize(...size);
    for (const data of typed) opened.write(data);
    typed = [];
  };

  // Opening in a running sandbox throws straight to the caller, as before hibernation existed.
  if (!options.ready) attach(options.open());
  else {
    const failed = (error: unknown) => {
      emit(`\r\nThe terminal could not open: ${error instanceof Error ? error.message : error}\r\n`);
      close(1);
    };
    options.ready.then(() => {
      if (closed) return;
      try {
        attach(options.open());
      } catch (error) {
        failed(error);
      }
    }, failed);
  }

  return {
    write(data) {
      if (pty) pty.write(data);
      else if (!closed) typed.push(data);
    },
    resize(cols, rows) {
      size = [cols, rows];
      pty?.resize(cols, rows);
    },
    onData(listener) {
      dataListeners.add(listener);
      return () => dataListeners.delete(listener);
    },
    onExit(listener) {
      exitListeners.add(listener);
      return () => exitListeners.delete(listener);
    },
    kill() {
      pty?.kill();
      close(0);
    },
  };
}
