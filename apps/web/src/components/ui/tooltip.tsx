'use client';
import * as RadixTooltip from '@radix-ui/react-tooltip';
import { type ButtonHTMLAttributes, forwardRef, type ReactNode } from 'react';

/** One provider per page, so moving between buttons shows the next tooltip without a delay. */
export function TooltipProvider({ children }: { children: ReactNode }) {
  return (
    <RadixTooltip.Provider delayDuration={400} skipDelayDuration={300}>
      {children}
    </RadixTooltip.Provider>
  );
}

/** A tooltip on hover and keyboard focus (Radix Tooltip); the trigger keeps its own accessible name. */
export function Tooltip({ content, children }: { content: ReactNode; children: ReactNode }) {
  return (
    <RadixTooltip.Root>
      <RadixTooltip.Trigger asChild>{children}</RadixTooltip.Trigger>
      <RadixTooltip.Portal>
        <RadixTooltip.Content className="tooltip" sideOffset={6} collisionPadding={8}>
          {content}
        </RadixTooltip.Content>
      </RadixTooltip.Portal>
    </RadixTooltip.Root>
  );
}

interface IconButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  /** The accessible name, shown as the tooltip too. */
  label: string;
  /** Shown after the label in the tooltip, e.g. "Ctrl+Enter". */
  shortcut?: string;
  /** Why the button is disabled, shown in the tooltip instead of the label. */
  disabledReason?: string | null;
  icon: ReactNode;
}

/**
 * A square button with an icon, its name as tooltip and aria-label. A disabled button still gets
 * its tooltip (the reason), so it is wrapped: disabled buttons receive no pointer events.
 */
export const IconButton = forwardRef<HTMLButtonElement, IconButtonProps>(function IconButton(
  { label, shortcut, disabledReason, icon, className, disabled, ...button },
  ref,
) {
  const tip = disabled && disabledReason ? disabledReason : shortcut ? `${label} (${shortcut})` : label;
  return (
    <Tooltip content={tip}>
      <span className="icon-button-wrap">
        <button
          ref={ref}
          type="button"
          className={`icon-button ${className ?? ''}`}
          aria-label={label}
          disabled={disabled}
          {...button}
        >
          {icon}
        </button>
      </span>
    </Tooltip>
  );
});
