'use client';
import * as DropdownMenu from '@radix-ui/react-dropdown-menu';
import Link from 'next/link';
import type { ReactNode } from 'react';

interface MenuProps {
  /** The button's visible content. */
  label: ReactNode;
  /** Accessible name when the label alone is unclear. */
  ariaLabel?: string;
  align?: 'left' | 'right';
  /** Extra class for the trigger button. */
  triggerClassName?: string;
  /** MenuItem, MenuLink, MenuLabel and MenuSeparator elements. */
  children: ReactNode;
}

/** A menu button (Radix DropdownMenu): arrow keys, typeahead, Escape and focus return come with it. */
export function Menu({ label, ariaLabel, align = 'left', triggerClassName, children }: MenuProps) {
  return (
    <DropdownMenu.Root modal={false}>
      <DropdownMenu.Trigger asChild>
        <button
          type="button"
          className={triggerClassName ?? 'btn btn-ghost menu-trigger'}
          aria-label={ariaLabel}
        >
          {label}
          <span aria-hidden="true" className="menu-caret">
            ▾
          </span>
        </button>
      </DropdownMenu.Trigger>
      <DropdownMenu.Portal>
        <DropdownMenu.Content
          className="menu-list"
          align={align === 'right' ? 'end' : 'start'}
          sideOffset={4}
          collisionPadding={8}
        >
          {children}
        </DropdownMenu.Content>
      </DropdownMenu.Portal>
    </DropdownMenu.Root>
  );
}

/** A menu entry that runs `onSelect`. */
export function MenuItem({
  children,
  onSelect,
  disabled,
  shortcut,
}: {
  children: ReactNode;
  onSelect(): void;
  disabled?: boolean;
  shortcut?: string;
}) {
  return (
    <DropdownMenu.Item className="menu-item" disabled={disabled} onSelect={onSelect}>
      {children}
      {shortcut ? <kbd className="menu-shortcut">{shortcut}</kbd> : null}
    </DropdownMenu.Item>
  );
}

/** A menu entry that navigates. */
export function MenuLink({
  href,
  current,
  children,
}: {
  href: string;
  current?: boolean;
  children: ReactNode;
}) {
  return (
    <DropdownMenu.Item asChild className="menu-item">
      <Link href={href} aria-current={current ? 'true' : undefined}>
        {children}
      </Link>
    </DropdownMenu.Item>
  );
}

export function MenuLabel({ children }: { children: ReactNode }) {
  return <DropdownMenu.Label className="menu-label">{children}</DropdownMenu.Label>;
}

export function MenuSeparator() {
  return <DropdownMenu.Separator className="menu-separator" />;
}
