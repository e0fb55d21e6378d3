'use client';
import { Rocket } from 'lucide-react';
import { useState } from 'react';
import type * as Y from 'yjs';
import { useText } from '../notebook/use-y.ts';
import { useWorkspace } from '../workspace/workspace-context.tsx';
import { DeployDialog } from './deploy-dialog.tsx';
import { definedFunctions } from './endpoint-format.ts';

/** The gutter button of a code cell that defines a function (editors and above). */
export function DeployCellButton(props: { source: Y.Text; notebookId: string; index: number }) {
  const text = useText(props.source);
  const { workspace } = useWorkspace();
  const [open, setOpen] = useState(false);
  const functions = definedFunctions(text);
  if (functions.length === 0) return null;
  return (
    <>
      <button
        type="button"
        className="cell-run"
        aria-label={`Deploy cell ${props.index + 1} as endpoint`}
        title="Deploy as endpoint"
        onClick={() => setOpen(true)}
      >
        <Rocket size={13} aria-hidden="true" />
      </button>
      {open ? (
        <DeployDialog
          workspace={workspace}
          notebookId={props.notebookId}
          functions={functions}
          open={open}
          onClose={() => setOpen(false)}
        />
      ) : null}
    </>
  );
}
