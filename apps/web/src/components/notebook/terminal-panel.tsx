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
  label = 'Terminal',
}: {
  notebookId: string;
  kernelId: string | null;
  label?: string;
}) {
  const host = useRef<HTMLDivElement>(null);
  const [message, setMessage] = useState<string | null>('Connecting…');

  useEffect(() => {
    const element = host.current;
    if (!element) return;
    let disposed = false;
    let socket: WebSocket | null = null;
    let cleanup = () => {};
    void Promise.all([import('@xterm/xterm'), import('@xterm/addon-fit')]).then(
      ([{ Terminal }, { FitAddon }]) => {
        if (disposed) return;
        const dark = window.matchMedia('(prefers-color-scheme: dark)').matches;
        const terminal = new Terminal({
          fontSize: 13,
          fontFamily: 'ui-monospace, Menlo, Consolas, monospace',
          convertEol: false,
          theme: dark ? { background: '#111114' } : { background: '#111114', foreground: '#e5e5e5' },
        });
        const fit = new FitAddon();
        terminal.loadAddon(fit);
        terminal.open(element);
        // The panel can be resized and hidden: the terminal follows its box, and tells the shell its size.
        const resize = new ResizeObserver(() => {
          if (element.clientHeight === 0) return;
          fit.fit();
          if (socket?.readyState === WebSocket.OPEN) {
            socket.send(JSON.stringify(['set_size', terminal.rows, terminal.cols]));
          }
        });
        resize.observe(element);
        fit.fit();
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
          resize.disconnect();
          input.dispose();
          terminal.dispose();
        };
      },
    );
    return () => {
      disposed = true;
      socket?.close();
      cleanup();
    };
  }, [notebookId, kernelId]);

  return (
    <section className="terminal-panel" aria-label={label}>
      {message ? (
        <div className="terminal-message muted small" role="status">
          {message}
        </div>
      ) : null}
      <div ref={host} className="terminal-host" />
    </section>
  );
}
