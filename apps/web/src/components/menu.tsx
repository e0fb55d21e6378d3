'use client';
import { type ReactNode, useEffect, useId, useRef, useState } from 'react';

function menuItems(list: HTMLElement | null): HTMLElement[] {
  return Array.from(list?.querySelectorAll<HTMLElement>('[role="menuitem"]:not(:disabled)') ?? []);
}

interface MenuProps {
  /** The button's visible content. */
  label: ReactNode;
  /** Accessible name when the label alone is unclear. */
  ariaLabel?: string;
  align?: 'left' | 'right';
  /** Items: links or buttons with className "menu-item" and role "menuitem". */
  children: (close: () => void) => ReactNode;
}

/** A menu button: arrow keys move between items, Escape closes and returns focus, clicks outside close it. */
export function Menu({ label, ariaLabel, align = 'left', children }: MenuProps) {
  const [open, setOpen] = useState(false);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const listRef = useRef<HTMLDivElement>(null);
  const rootRef = useRef<HTMLDivElement>(null);
  const menuId = useId();

  const close = (returnFocus = true) => {
    setOpen(false);
    if (returnFocus) buttonRef.current?.focus();
  };

  useEffect(() => {
    if (!open) return;
    menuItems(listRef.current)[0]?.focus();
    const onPointer = (event: PointerEvent) => {
      if (!rootRef.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', onPointer);
    return () => document.removeEventListener('pointerdown', onPointer);
  }, [open]);

  return (
    <div className="menu" ref={rootRef}>
      <button
        ref={buttonRef}
        type="button"
        className="btn btn-ghost"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        aria-label={ariaLabel}
        onClick={() => setOpen((value) => !value)}
        onKeyDown={(event) => {
          if (event.key === 'ArrowDown' && !open) {
            event.preventDefault();
            setOpen(true);
          }
        }}
      >
        {label}
        <span aria-hidden="true">▾</span>
      </button>
      {open ? (
        <div
          id={menuId}
          ref={listRef}
          role="menu"
          tabIndex={-1}
          className={`menu-list ${align === 'right' ? 'align-right' : ''}`}
          onKeyDown={(event) => {
            const list = menuItems(listRef.current);
            const index = list.indexOf(document.activeElement as HTMLElement);
            if (event.key === 'Escape') {
              event.preventDefault();
              close();
            } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
              event.preventDefault();
              const step = event.key === 'ArrowDown' ? 1 : -1;
              list[(index + step + list.length) % list.length]?.focus();
            } else if (event.key === 'Home' || event.key === 'End') {
              event.preventDefault();
              (event.key === 'Home' ? list[0] : list[list.length - 1])?.focus();
            } else if (event.key === 'Tab') {
              close(false);
            }
          }}
        >
          {children(() => close(false))}
        </div>
      ) : null}
    </div>
  );
}
