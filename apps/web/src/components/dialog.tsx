'use client';
import * as RadixDialog from '@radix-ui/react-dialog';
import type { ReactNode } from 'react';

interface DialogProps {
  open: boolean;
  title: string;
  /** Extra class for the dialog box, e.g. `dialog-wide` for content wider than a form. */
  className?: string;
  onClose(): void;
  children: ReactNode;
}

/** A modal (Radix Dialog): focus is trapped inside, the page behind is inert, Escape closes it. */
export function Dialog({ open, title, className, onClose, children }: DialogProps) {
  return (
    <RadixDialog.Root open={open} onOpenChange={(next) => (next ? undefined : onClose())}>
      <RadixDialog.Portal>
        <RadixDialog.Overlay className="dialog-overlay" />
        <RadixDialog.Content
          className={className ? `dialog ${className}` : 'dialog'}
          aria-describedby={undefined}
        >
          <div className="dialog-body">
            <RadixDialog.Title asChild>
              <h2>{title}</h2>
            </RadixDialog.Title>
            {children}
          </div>
        </RadixDialog.Content>
      </RadixDialog.Portal>
    </RadixDialog.Root>
  );
}
