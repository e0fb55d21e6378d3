'use client';
import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from 'react';
import type * as Y from 'yjs';

/** A terminal tab of the bottom panel: a shell in one notebook's kernel sandbox. */
export interface TerminalTab {
  id: string;
  title: string;
  notebookId: string;
  kernelId: string | null;
}

/** One line of the bottom panel's log: what happened to the kernel or a run, as it was seen. */
export interface LogEntry {
  at: number;
  notebook: string;
  text: string;
}

/** The notebook open in the editor area, for the outline and the terminal button. */
export interface ActiveNotebook {
  id: string;
  name: string;
  doc: Y.Doc;
  reveal(cellIndex: number): void;
}

interface IdeState {
  terminals: readonly TerminalTab[];
  bottomTab: string | null;
  log: readonly LogEntry[];
  active: ActiveNotebook | null;
  openTerminal(spec: Omit<TerminalTab, 'id' | 'title'>): void;
  closeTerminal(id: string): void;
  showBottom(tab: string | null): void;
  addLog(entry: Omit<LogEntry, 'at'>): void;
  setActive(active: ActiveNotebook | null): void;
}

const IdeContext = createContext<IdeState | null>(null);
let nextTerminal = 1;

/** The workspace shell's shared state: bottom panel (terminals, log) and the active notebook. */
export function IdeProvider({ children }: { children: ReactNode }) {
  const [terminals, setTerminals] = useState<TerminalTab[]>([]);
  const [bottomTab, setBottomTab] = useState<string | null>(null);
  const [log, setLog] = useState<LogEntry[]>([]);
  const [active, setActiveState] = useState<ActiveNotebook | null>(null);

  const openTerminal = useCallback((spec: Omit<TerminalTab, 'id' | 'title'>) => {
    const n = nextTerminal++;
    const tab: TerminalTab = { ...spec, id: `terminal-${n}`, title: `Terminal ${n}` };
    setTerminals((list) => [...list, tab]);
    setBottomTab(tab.id);
  }, []);
  const closeTerminal = useCallback((id: string) => {
    setTerminals((list) => {
      const next = list.filter((tab) => tab.id !== id);
      setBottomTab((current) => (current === id ? (next[next.length - 1]?.id ?? null) : current));
      return next;
    });
  }, []);
  const addLog = useCallback((entry: Omit<LogEntry, 'at'>) => {
    setLog((list) => [...list.slice(-499), { ...entry, at: Date.now() }]);
  }, []);
  const setActive = useCallback((next: ActiveNotebook | null) => setActiveState(next), []);

  const value = useMemo(
    () => ({
      terminals,
      bottomTab,
      log,
      active,
      openTerminal,
      closeTerminal,
      showBottom: setBottomTab,
      addLog,
      setActive,
    }),
    [terminals, bottomTab, log, active, openTerminal, closeTerminal, addLog, setActive],
  );
  return <IdeContext.Provider value={value}>{children}</IdeContext.Provider>;
}

/** The shell's state; null outside a workspace shell (the notebook then has no bottom panel). */
export function useIde(): IdeState | null {
  return useContext(IdeContext);
}
