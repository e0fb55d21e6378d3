'use client';
import '@xterm/xterm/css/xterm.css';
import { useEffect, useRef, useState } from 'react';

/**
 * A shell in the notebook's kernel sandbox: xterm.js over `/terminals/<notebookId>`, which the web
 * server proxies to the gateway's terminado socket (JSON arrays: ["stdin", d] out, ["stdout", d] in).
 */
export default function TerminalPanel({
  notebookId,
  kernelId,
}: {
  notebookId: string;
  kernelId: string | null;
}) {
  const host = useRef<HTMLDivElement>(null);
  const [message, setMessage] = useState<string | null>('Connecting…');

  useEffect(() => {
    const element = host.current;
    if (!element) return;
    let disposed = false;
    let socket: WebSocket | null = null;
    let cleanup = () => {};
    void import('@xterm/xterm').then(({ Terminal }) => {
      if (disposed) return;
      const terminal = new Terminal({
        fontSize: 13,
        fontFamily: 'ui-monospace, Menlo, Consolas, monospace',
        convertEol: false,
        rows: 14,
      });
      terminal.open(element);
      const query = kernelId ? `?kernel=${encodeURIComponent(kernelId)}` : '';
      const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
      socket = new WebSocket(
        `${scheme}://${window.location.host}/terminals/${encodeURIComponent(notebookId)}${query}`,
      );
      const ws = socket;
      ws.onopen = () => {
        setMessage(null);
        ws.send(JSON.stringify(['set_size', terminal.rows, terminal.cols]));
        terminal.focus();
      };
      ws.onmessage = (event) => {
        try {
          const [kind, data] = JSON.parse(String(event.data)) as [string, unknown];
          if (kind === 'stdout' && typeof data === 'string') terminal.write(data);
        } catch {
          // terminado only sends JSON arrays; anything else is dropped.
        }
      };
      ws.onclose = (event) => {
        setMessage(
          event.reason || (event.code === 1000 ? 'The terminal closed.' : 'The terminal disconnected.'),
        );
      };
      const input = terminal.onData((data) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(['stdin', data]));
      });
      cleanup = () => {
        input.dispose();
        terminal.dispose();
      };
    });
    return () => {
      disposed = true;
      socket?.close();
      cleanup();
    };
  }, [notebookId, kernelId]);

  return (
    <section className="terminal-panel" aria-label="Terminal">
      {message ? (
        <div className="terminal-message muted small" role="status">
          {message}
        </div>
      ) : null}
      <div ref={host} className="terminal-host" />
    </section>
  );
}
