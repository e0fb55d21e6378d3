'use client';
import type { ModuleFunction } from '@kiln/notebook';
import { Rocket } from 'lucide-react';
import { useState } from 'react';
import { DeployDialog } from '../endpoints/deploy-dialog.tsx';
import type { Workspace } from '../workspace/workspace-context.tsx';

/**
 * The module's top-level functions, each with "Deploy" (editors): the endpoint deploy dialog, given the
 * module as it is now, captures what the function needs from it and deploys it like a notebook cell's.
 */
export function FunctionList(props: {
  workspace: Workspace;
  fileId: string;
  functions: ModuleFunction[];
  /** The module's current text (what a deploy captures from). */
  source: string;
  canDeploy: boolean;
}) {
  const [deploying, setDeploying] = useState<string | null>(null);
  if (props.functions.length === 0) return null;
  const names = props.functions.map((fn) => fn.name);
  return (
    <section className="fn-list" aria-label="Functions">
      <ul>
        {props.functions.map((fn) => (
          <li key={fn.name} className="fn-list-item">
            <code className="truncate" title={`Line ${fn.line}`}>
              {fn.async ? 'async ' : ''}
              {fn.name}({fn.params})
            </code>
            {props.canDeploy ? (
              <button
                type="button"
                className="btn btn-small"
                aria-label={`Deploy ${fn.name}`}
                onClick={() => setDeploying(fn.name)}
              >
                <Rocket size={14} aria-hidden="true" />
                Deploy
              </button>
            ) : null}
          </li>
        ))}
      </ul>
      {deploying ? (
        <DeployDialog
          key={deploying}
          workspace={props.workspace}
          notebookId={props.fileId}
          source={props.source}
          functions={[deploying, ...names.filter((name) => name !== deploying)]}
          open
          onClose={() => setDeploying(null)}
        />
      ) : null}
    </section>
  );
}
