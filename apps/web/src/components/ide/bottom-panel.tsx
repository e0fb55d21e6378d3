'use client';
import * as Tabs from '@radix-ui/react-tabs';
import { Plus, X } from 'lucide-react';
import dynamic from 'next/dynamic';
import { useEffect, useRef, useState } from 'react';
import { IconButton } from '../ui/tooltip.tsx';
import { useIde } from './ide-context.tsx';

const TerminalView = dynamic(() => import('../notebook/terminal-panel.tsx'), { ssr: false });
const ICON = { size: 15, 'aria-hidden': true } as const;
const MIN_HEIGHT = 120;
const HEIGHT_KEY = 'kiln.bottom-panel-height';

function timeOf(at: number): string {
  return new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/**
 * The bottom panel of the workspace shell: terminals (several, as tabs) and the log. It takes its
 * own row of the layout, so it never covers cells; drag its top edge to resize it.
 */
export function BottomPanel() {
  const ide = useIde();
  const [height, setHeight] = useState(260);
  const drag = useRef<{ startY: number; startHeight: number } | null>(null);

  useEffect(() => {
    const saved = Number(localStorage.getItem(HEIGHT_KEY));
    if (saved >= MIN_HEIGHT) setHeight(saved);
  }, []);

  if (!ide || ide.bottomTab === null) return null;
  const active = ide.bottomTab;
  const activeTerminal = ide.terminals.find((tab) => tab.id === active);
  const maxHeight = () => Math.max(MIN_HEIGHT, window.innerHeight - 200);

  return (
    <section className="bottom-panel" aria-label="Bottom panel" style={{ height }}>
      {/* biome-ignore lint/a11y/useSemanticElements: a separator that is dragged, as in ARIA's window splitter pattern. */}
      <div
        className="bottom-panel-resize"
        role="separator"
        aria-orientation="horizontal"
        aria-label="Resize the bottom panel"
        aria-valuenow={height}
        aria-valuemin={MIN_HEIGHT}
        tabIndex={0}
        onKeyDown={(event) => {
          if (event.key !== 'ArrowUp' && event.key !== 'ArrowDown') return;
          event.preventDefault();
          const next = Math.min(
            maxHeight(),
            Math.max(MIN_HEIGHT, height + (event.key === 'ArrowUp' ? 20 : -20)),
          );
          setHeight(next);
          localStorage.setItem(HEIGHT_KEY, String(next));
        }}
        onPointerDown={(event) => {
          drag.current = { startY: event.clientY, startHeight: height };
          event.currentTarget.setPointerCapture(event.pointerId);
        }}
        onPointerMove={(event) => {
          if (!drag.current) return;
          const next = drag.current.startHeight + (drag.current.startY - event.clientY);
          setHeight(Math.min(maxHeight(), Math.max(MIN_HEIGHT, next)));
        }}
        onPointerUp={() => {
          drag.current = null;
          localStorage.setItem(HEIGHT_KEY, String(height));
        }}
      />
      <Tabs.Root
        value={active}
        onValueChange={(value) => ide.showBottom(value)}
        className="bottom-panel-tabs"
      >
        <div className="bottom-panel-header">
          <Tabs.List aria-label="Bottom panel" className="tab-list">
            {ide.terminals.map((tab) => (
              <Tabs.Trigger key={tab.id} value={tab.id} className="tab">
                {tab.title}
              </Tabs.Trigger>
            ))}
            <Tabs.Trigger value="log" className="tab">
              Log
            </Tabs.Trigger>
          </Tabs.List>
          <span className="header-spacer" />
          {activeTerminal ? (
            <>
              <IconButton
                label="New terminal"
                icon={<Plus {...ICON} />}
                onClick={() =>
                  ide.openTerminal({
                    notebookId: activeTerminal.notebookId,
                    kernelId: activeTerminal.kernelId,
                  })
                }
              />
              <IconButton
                label={`Close ${activeTerminal.title}`}
                icon={<X {...ICON} />}
                onClick={() => ide.closeTerminal(activeTerminal.id)}
              />
            </>
          ) : null}
          <IconButton
            label="Hide the bottom panel"
            icon={<X {...ICON} />}
            onClick={() => ide.showBottom(null)}
          />
        </div>
        {ide.terminals.map((tab) => (
          // Terminals stay mounted while another tab shows, so their sessions and scrollback live on.
          <Tabs.Content
            key={tab.id}
            value={tab.id}
            forceMount
            hidden={tab.id !== active}
            className="bottom-panel-body"
          >
            <TerminalView notebookId={tab.notebookId} kernelId={tab.kernelId} label={tab.title} />
          </Tabs.Content>
        ))}
        <Tabs.Content value="log" className="bottom-panel-body log-view">
          {ide.log.length === 0 ? (
            <p className="muted small">Kernel and run events of the notebooks you open appear here.</p>
          ) : (
            <ol className="log-list" aria-label="Log">
              {ide.log.map((entry, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: entries are only ever appended.
                <li key={i}>
                  <time className="muted">{timeOf(entry.at)}</time> <strong>{entry.notebook}</strong>{' '}
                  {entry.text}
                </li>
              ))}
            </ol>
          )}
        </Tabs.Content>
      </Tabs.Root>
    </section>
  );
}
