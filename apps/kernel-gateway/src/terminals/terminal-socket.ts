import { CloseCode } from '@kiln/core';
import type { WebSocket } from 'ws';
import { closeReason } from '../kernels/channels-socket.ts';
import type { Terminal } from './terminal-registry.ts';

/** Speaks terminado's JSON-array protocol: ["stdin", d], ["set_size", rows, cols] in; ["stdout", d] out. */
export function attachTerminalSocket(socket: WebSocket, terminal: Terminal): void {
  const listener = (event: ['stdout', string] | ['disconnect', number]) => {
    if (socket.readyState !== socket.OPEN) return;
    socket.send(JSON.stringify(event));
    if (event[0] === 'disconnect') socket.close(CloseCode.normal, 'Terminal closed');
  };
  socket.send(JSON.stringify(['setup', {}]));
  if (terminal.scrollback) socket.send(JSON.stringify(['stdout', terminal.scrollback]));
  terminal.listeners.add(listener);
  socket.on('message', (data, isBinary) => {
    let event: unknown;
    try {
      event = JSON.parse(isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString());
    } catch {
      event = undefined;
    }
    if (!Array.isArray(event) || typeof event[0] !== 'string') {
      socket.close(
        CloseCode.invalidPayload,
        closeReason('Terminal messages are JSON arrays like ["stdin", "ls\\r"]'),
      );
      return;
    }
    terminal.lastActivity = new Date();
    const [kind, a, b] = event as [string, unknown, unknown];
    if (kind === 'stdin' && typeof a === 'string') terminal.pty.write(a);
    else if (kind === 'set_size' && Number.isInteger(a) && Number.isInteger(b)) {
      const rows = Math.max(1, Math.min(1000, a as number));
      const cols = Math.max(1, Math.min(1000, b as number));
      terminal.pty.resize(cols, rows);
    }
  });
  socket.on('close', () => terminal.listeners.delete(listener));
}
