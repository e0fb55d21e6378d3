'use client';
import type { ModuleFunction } from '@kiln/notebook';
import { useMutation } from '@tanstack/react-query';
import { Play, Square } from 'lucide-react';
import { useId, useState } from 'react';
import { errorMessage } from '../../lib/errors.ts';
import { parseArguments } from '../../lib/function-arguments.ts';
import { useTRPC } from '../../lib/trpc.ts';

export interface RunPanelHandle {
  run(): void;
}

/** Choose a function of the module, give its keyword arguments as JSON, run it (or stop the run). */
export function RunPanel(props: {
  handle: { current: RunPanelHandle | null };
  workspaceId: string;
  fileId: string;
  functions: ModuleFunction[];
  canRun: boolean;
  busy: boolean;
  onStop(): void;
}) {
  const trpc = useTRPC();
  const id = useId();
  const [chosen, setChosen] = useState<string | null>(null);
  const [argsText, setArgsText] = useState('{}');
  const [problem, setProblem] = useState<string | null>(null);
  const run = useMutation(
    trpc.functionFile.run.mutationOptions({ onError: (error) => setProblem(errorMessage(error)) }),
  );
  const selected = props.functions.find((fn) => fn.name === chosen) ?? props.functions[0] ?? null;

  const start = () => {
    if (!props.canRun || !selected || run.isPending) return;
    const parsed = parseArguments(argsText);
    if ('error' in parsed) {
      setProblem(parsed.error);
      return;
    }
    setProblem(null);
    run.mutate({
      workspaceId: props.workspaceId,
      notebookId: props.fileId,
      functionName: selected.name,
      args: parsed.args as Record<string, never>,
    });
  };
  props.handle.current = { run: start };

  return (
    <form
      className="fn-run"
      aria-label="Run a function"
      onSubmit={(event) => {
        event.preventDefault();
        start();
      }}
    >
      <div className="fn-run-row">
        <label htmlFor={`${id}-fn`}>Function</label>
        <select
          id={`${id}-fn`}
          className="input fn-run-select"
          value={selected?.name ?? ''}
          disabled={props.functions.length === 0}
          onChange={(event) => setChosen(event.target.value)}
        >
          {props.functions.length === 0 ? <option value="">No top-level function yet</option> : null}
          {props.functions.map((fn) => (
            <option key={fn.name} value={fn.name}>
              {fn.async ? 'async ' : ''}
              {fn.name}({fn.params})
            </option>
          ))}
        </select>
        {props.canRun ? (
          <>
            <button
              type="submit"
              className="btn btn-primary btn-small"
              disabled={!selected || run.isPending}
              title="Run the module, then call the function (Ctrl+Enter in the editor)"
            >
              <Play size={14} aria-hidden="true" />
              Run
            </button>
            <button type="button" className="btn btn-small" disabled={!props.busy} onClick={props.onStop}>
              <Square size={14} aria-hidden="true" />
              Stop
            </button>
          </>
        ) : null}
      </div>
      {props.canRun ? (
        <div className="fn-run-args">
          <label htmlFor={`${id}-args`}>Keyword arguments (JSON)</label>
          <textarea
            id={`${id}-args`}
            className="input fn-run-args-input"
            spellCheck={false}
            rows={3}
            value={argsText}
            onChange={(event) => setArgsText(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
                event.preventDefault();
                start();
              }
            }}
          />
        </div>
      ) : null}
      {problem ? (
        <div className="alert alert-error" role="alert">
          {problem}
        </div>
      ) : null}
    </form>
  );
}
