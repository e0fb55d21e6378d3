'use client';
import { type RefObject, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { prefixOffsets, visibleRange, type WindowRange } from '../../lib/notebook/virtual-window.ts';

/** The element that scrolls the notebook (the shell's content area), or null for the window. */
export function scrollParent(element: HTMLElement): HTMLElement | null {
  for (let node = element.parentElement; node; node = node.parentElement) {
    const { overflowY } = getComputedStyle(node);
    if (overflowY === 'auto' || overflowY === 'scroll') return node;
  }
  return null;
}

/**
 * Which cells to render in full, given the window's scroll position: measured heights for cells
 * that have been on screen, estimates for the rest. Rendered cells report their height through
 * `measure` (a ResizeObserver), so outputs that grow move the cells below them.
 */
export function useVirtualCells(
  listRef: RefObject<HTMLElement | null>,
  ids: readonly string[],
  estimate: (index: number) => number,
): { range: WindowRange; heightOf(index: number): number; measure: (element: HTMLElement | null) => void } {
  const measured = useRef(new Map<string, number>());
  const [version, setVersion] = useState(0);
  const [range, setRange] = useState<WindowRange>({ start: 0, end: Math.min(ids.length, 30) });
  const frame = useRef(0);

  const heightOf = useCallback(
    (index: number) => measured.current.get(ids[index] ?? '') ?? estimate(index),
    [ids, estimate],
  );
  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` changes when a measurement does.
  const offsets = useMemo(() => prefixOffsets(ids.map((_, i) => heightOf(i))), [ids, heightOf, version]);

  const update = useCallback(() => {
    frame.current = 0;
    const list = listRef.current;
    if (!list) return;
    const scroller = scrollParent(list);
    const box = scroller?.getBoundingClientRect();
    const top = list.getBoundingClientRect().top - (box?.top ?? 0);
    const viewport = box?.height ?? window.innerHeight;
    const next = visibleRange(offsets, -top, viewport, viewport);
    setRange((current) => (current.start === next.start && current.end === next.end ? current : next));
  }, [listRef, offsets]);

  useEffect(() => {
    const schedule = () => {
      if (!frame.current) frame.current = requestAnimationFrame(update);
    };
    update();
    const scroller = listRef.current ? scrollParent(listRef.current) : null;
    const target: HTMLElement | Window = scroller ?? window;
    target.addEventListener('scroll', schedule, { passive: true });
    window.addEventListener('resize', schedule);
    return () => {
      target.removeEventListener('scroll', schedule);
      window.removeEventListener('resize', schedule);
      if (frame.current) cancelAnimationFrame(frame.current);
      frame.current = 0;
    };
  }, [update, listRef]);

  const observer = useMemo(() => {
    if (typeof ResizeObserver === 'undefined') return null;
    return new ResizeObserver((entries) => {
      let changed = false;
      for (const entry of entries) {
        const element = entry.target as HTMLElement;
        const id = element.dataset.cellId;
        if (!id || !element.isConnected) continue;
        const height = Math.round(element.getBoundingClientRect().height);
        if (height > 0 && measured.current.get(id) !== height) {
          measured.current.set(id, height);
          changed = true;
        }
      }
      if (changed) setVersion((v) => v + 1);
    });
  }, []);
  useEffect(() => () => observer?.disconnect(), [observer]);

  const observed = useRef(new Map<string, HTMLElement>());
  const measure = useCallback(
    (element: HTMLElement | null) => {
      if (!element || !observer) return;
      const id = element.dataset.cellId ?? '';
      const previous = observed.current.get(id);
      if (previous === element) return;
      if (previous) observer.unobserve(previous);
      observed.current.set(id, element);
      observer.observe(element);
    },
    [observer],
  );

  return { range, heightOf, measure };
}
