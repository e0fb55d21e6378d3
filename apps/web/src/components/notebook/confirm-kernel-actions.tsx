'use client';
import { type ReactNode, useState } from 'react';
import { ConfirmDialog } from '../confirm-dialog.tsx';
import type { KernelActions } from './use-kernel-actions.ts';

type Asked = 'restart' | 'shutdown';

const QUESTIONS: Record<Asked, { title: string; confirm: string; text: string }> = {
  restart: {
    title: 'Restart the kernel?',
    confirm: 'Restart',
    text: 'Every variable in memory is lost, for everyone in this notebook. Files in /workspace stay.',
  },
  shutdown: {
    title: 'Shut down the kernel?',
    confirm: 'Shut down',
    text: 'Every variable in memory is lost, for everyone in this notebook; the next run starts a new kernel.',
  },
};

/**
 * The notebook's kernel actions with restart and shut down asking first, as JupyterLab and Colab
 * do: one stray click would otherwise throw away everyone's variables. `restartNow` stays
 * unconfirmed for flows where the user already chose to restart (changing the machine).
 */
export function useConfirmedKernelActions(actions: KernelActions): {
  actions: KernelActions;
  dialog: ReactNode;
} {
  const [asked, setAsked] = useState<Asked | null>(null);
  const [pending, setPending] = useState(false);
  const question = asked ? QUESTIONS[asked] : null;
  const confirmed: KernelActions = {
    ...actions,
    restart: async () => {
      setAsked('restart');
      return false;
    },
    shutdown: async () => {
      setAsked('shutdown');
      return false;
    },
  };
  const dialog = (
    <ConfirmDialog
      open={question !== null}
      title={question?.title ?? ''}
      confirmLabel={question?.confirm ?? ''}
      pending={pending}
      onClose={() => setAsked(null)}
      onConfirm={async () => {
        setPending(true);
        try {
          await (asked === 'shutdown' ? actions.shutdown() : actions.restartNow());
        } finally {
          setPending(false);
          setAsked(null);
        }
      }}
    >
      <p>{question?.text}</p>
    </ConfirmDialog>
  );
  return { actions: confirmed, dialog };
}
