'use client';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useEffect, useState } from 'react';
import type { RouterOutputs } from '../../lib/router-types.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { Dialog } from '../dialog.tsx';
import { TextField } from '../field.tsx';
import { MachinePicker, type MachineValue, machineOf } from '../notebook/machine-picker.tsx';
import type { MachineChoices } from '../notebook/use-kernel-actions.ts';
import { ErrorAlert, Loading } from '../status.tsx';
import type { Workspace } from '../workspace/workspace-context.tsx';
import { type SandboxChoice, SandboxFields, useNotebookSandbox } from './deploy-sandbox.tsx';
import { labelFor } from './endpoint-format.ts';

type Captured = RouterOutputs['endpoint']['captureSource'];

/** A sample input from the function's parameters: defaults where they are JSON, null where required. */
function sampleFrom(captured: Captured): string {
  const sample: Record<string, unknown> = {};
  for (const param of captured.parameters) {
    if (param.kind === 'var_positional' || param.kind === 'var_keyword') continue;
    if (param.default === undefined) sample[param.name] = null;
    else {
      try {
        sample[param.name] = JSON.parse(param.default.replace(/^'(.*)'$/, '"$1"'));
      } catch {}
    }
  }
  return JSON.stringify(sample);
}

function CaptureView({ captured }: { captured: Captured }) {
  return (
    <section aria-label="Captured dependencies" className="stack small">
      <p className="muted">
        Kiln found what <code>{captured.function}</code> needs in this notebook. Check it before deploying:
        the endpoint's module is exactly this.
      </p>
      <div>
        <strong>Imports</strong> {captured.imports.length === 0 ? <span className="muted">none</span> : null}
        <ul aria-label="Imports">
          {captured.imports.map((entry) => (
            <li key={entry.source}>
              <code>{entry.source}</code>
            </li>
          ))}
        </ul>
      </div>
      <div>
        <strong>Definitions it uses</strong>{' '}
        {captured.definitions.length === 0 ? <span className="muted">none</span> : null}
        <ul aria-label="Definitions">
          {captured.definitions.map((entry) => (
            <li key={`${entry.cell}-${entry.name}`}>
              <code>{entry.name}</code>{' '}
              <span className="muted">
                ({entry.kind}, cell {entry.cell + 1})
              </span>
            </li>
          ))}
        </ul>
      </div>
      {captured.missing.length > 0 ? (
        <div className="alert alert-info" role="status">
          Not defined in any cell:{' '}
          {captured.missing.map((name) => (
            <code key={name}>{name} </code>
          ))}
        </div>
      ) : null}
      <details>
        <summary>Module source</summary>
        <pre className="mono endpoint-source">{captured.source}</pre>
      </details>
    </section>
  );
}

/** A saved machine (an endpoint's or the notebook's) as the picker's fields. */
function machineValue(saved: { cpu: number; memoryMiB: number; gpu: string[] }): MachineValue {
  return { cpu: String(saved.cpu), memoryGiB: String(saved.memoryMiB / 1024), gpu: saved.gpu[0] ?? 'none' };
}

/**
 * The picker's choices at the CPU and memory typed (asked again once typing pauses), on the node the
 * chosen volumes pin replicas to; the last answer stays shown while the next one loads.
 */
function useMachineChoices(
  workspaceId: string,
  machine: MachineValue,
  sandbox: SandboxChoice | null,
  open: boolean,
): MachineChoices | null {
  const trpc = useTRPC();
  const { cpu, memoryMiB } = machineOf(machine);
  const volumeIds = sandbox?.volumes.map((volume) => volume.volumeId) ?? [];
  const [asked, setAsked] = useState({ cpu, memoryMiB, volumeIds });
  const key = JSON.stringify({ cpu, memoryMiB, volumeIds });
  useEffect(() => {
    const timer = setTimeout(() => setAsked(JSON.parse(key)), 300);
    return () => clearTimeout(timer);
  }, [key]);
  const valid = asked.cpu > 0 && asked.memoryMiB > 0;
  const choices = useQuery({
    ...trpc.endpoint.machines.queryOptions({ workspaceId, ...asked }),
    enabled: open && valid,
    placeholderData: keepPreviousData,
  });
  return choices.data ?? null;
}

/** "Deploy as endpoint" for a cell: pick the function, confirm what was captured, machine, sample input. */
export function DeployDialog(props: {
  workspace: Workspace;
  /** The notebook, or the function file whose `source` is deployed. */
  notebookId: string;
  functions: string[];
  /** A function file's module text: captured and deployed as it is, instead of the notebook's cells. */
  source?: string;
  open: boolean;
  onClose(): void;
}) {
  const { workspace, notebookId, source } = props;
  const trpc = useTRPC();
  const [functionName, setFunctionName] = useState(props.functions[0] ?? '');
  const [target, setTarget] = useState<string>('new');
  const [label, setLabel] = useState(labelFor(props.functions[0] ?? ''));
  const [machine, setMachine] = useState<MachineValue>({ cpu: '1', memoryGiB: '2', gpu: 'none' });
  /** A saved GPU shape the catalog lacks (`H100:2`), offered besides the catalog's types. */
  const [savedGpus, setSavedGpus] = useState<string[]>([]);
  const [isPublic, setPublic] = useState(false);
  const [sample, setSample] = useState('{}');
  const [sandbox, setSandbox] = useState<SandboxChoice | null>(null);
  const notebookSandbox = useNotebookSandbox(workspace, notebookId, props.open);
  const { defaults } = notebookSandbox;
  // Once loaded, the notebook's machine, image, secrets and volumes are the starting choice.
  useEffect(() => {
    if (!defaults || sandbox) return;
    const { machine: notebookMachine, ...rest } = defaults;
    setSandbox(rest);
    setMachine(machineValue(notebookMachine));
    setSavedGpus(notebookMachine.gpu);
  }, [defaults, sandbox]);
  const machines = useMachineChoices(workspace.id, machine, sandbox, props.open);
  const endpoints = useQuery({
    ...trpc.endpoint.list.queryOptions({ workspaceId: workspace.id }),
    enabled: props.open,
  });
  const captureCells = useMutation(
    trpc.endpoint.capture.mutationOptions({ onSuccess: (c) => setSample(sampleFrom(c)) }),
  );
  const captureText = useMutation(
    trpc.endpoint.captureSource.mutationOptions({ onSuccess: (c) => setSample(sampleFrom(c)) }),
  );
  const capture = source === undefined ? captureCells : captureText;
  const queryClient = useQueryClient();
  // The next opening of this dialog (and the endpoints page) lists the endpoint just made.
  const create = useMutation(
    trpc.endpoint.create.mutationOptions({
      onSuccess: () =>
        queryClient.invalidateQueries({
          queryKey: trpc.endpoint.list.queryKey({ workspaceId: workspace.id }),
        }),
    }),
  );
  const update = useMutation(trpc.endpoint.update.mutationOptions());
  const deployCells = useMutation(trpc.endpoint.deployFromNotebook.mutationOptions());
  const deployText = useMutation(trpc.endpoint.deploySource.mutationOptions());
  const deploy = source === undefined ? deployCells : deployText;
  const { mutate: runCapture } = captureCells;
  const { mutate: runCaptureText } = captureText;

  useEffect(() => {
    if (!props.open || !functionName) return;
    if (source === undefined) runCapture({ workspaceId: workspace.id, notebookId, functionName });
    else runCaptureText({ workspaceId: workspace.id, source, functionName });
  }, [props.open, functionName, notebookId, workspace.id, source, runCapture, runCaptureText]);

  let sampleError: string | null = null;
  let sampleInput: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(sample);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      sampleError = 'A JSON object of keyword arguments';
    else sampleInput = parsed;
  } catch {
    sampleError = 'Not valid JSON';
  }

  async function submit() {
    const asked = machineOf(machine);
    const settings = {
      cpu: asked.cpu,
      memoryMiB: asked.memoryMiB,
      gpu: asked.gpu ? [asked.gpu] : [],
      public: isPublic,
    };
    const endpointId =
      target === 'new'
        ? (await create.mutateAsync({ workspaceId: workspace.id, label, settings })).id
        : (await update.mutateAsync({ workspaceId: workspace.id, endpointId: target, settings })).id;
    setTarget(endpointId);
    const request = {
      workspaceId: workspace.id,
      endpointId,
      functionName,
      sampleInput,
      ...(sandbox ? { sandbox } : {}),
    };
    if (source === undefined) await deployCells.mutateAsync({ ...request, notebookId });
    else await deployText.mutateAsync({ ...request, fileId: notebookId, source });
  }

  const version = deploy.data;
  const busy = create.isPending || update.isPending || deploy.isPending;
  const endpointLabel = endpoints.data?.find((e) => e.id === target)?.label ?? label;
  return (
    <Dialog open={props.open} title="Deploy as endpoint" className="dialog-wide" onClose={props.onClose}>
      <form
        className="form"
        onSubmit={(event) => {
          event.preventDefault();
          void submit().catch(() => undefined);
        }}
      >
        <div className="field">
          <label htmlFor="deploy-function">Function</label>
          <select
            id="deploy-function"
            className="select"
            value={functionName}
            onChange={(e) => setFunctionName(e.target.value)}
          >
            {props.functions.map((name) => (
              <option key={name}>{name}</option>
            ))}
          </select>
        </div>
        {capture.isPending ? <Loading label="Finding what the function needs…" /> : null}
        <ErrorAlert error={capture.error} />
        {capture.data ? <CaptureView captured={capture.data} /> : null}
        <div className="field">
          <label htmlFor="deploy-endpoint">Endpoint</label>
          <select
            id="deploy-endpoint"
            className="select"
            value={target}
            onChange={(e) => {
              setTarget(e.target.value);
              // A new version keeps the endpoint's machine and access unless changed here.
              const chosen = endpoints.data?.find((endpoint) => endpoint.id === e.target.value);
              if (chosen) {
                setMachine(machineValue(chosen.settings));
                setSavedGpus(chosen.settings.gpu);
                setPublic(chosen.settings.public);
              }
            }}
          >
            <option value="new">New endpoint</option>
            {endpoints.data?.map((endpoint) => (
              <option key={endpoint.id} value={endpoint.id}>
                {endpoint.label} (new version)
              </option>
            ))}
          </select>
        </div>
        {target === 'new' ? (
          <TextField
            label="Label"
            hint={`Served at /e/${workspace.slug}/${label}`}
            value={label}
            onChange={(e) => setLabel(e.target.value)}
          />
        ) : null}
        <section aria-label="Machine" className="stack small">
          <p className="muted">
            Each replica's machine: what can start now, what would wait and why, and the price per hour.
          </p>
          <MachinePicker value={machine} onChange={setMachine} choices={machines} extraGpus={savedGpus} />
        </section>
        <ErrorAlert error={notebookSandbox.error} />
        {sandbox ? (
          <SandboxFields
            workspace={workspace}
            value={sandbox}
            onChange={setSandbox}
            secrets={notebookSandbox.secrets}
          />
        ) : null}
        <label className="row small">
          <input type="checkbox" checked={isPublic} onChange={(e) => setPublic(e.target.checked)} /> Public
          (no token needed)
        </label>
        <div className="field">
          <label htmlFor="deploy-sample">Sample input (smoke test)</label>
          <textarea
            id="deploy-sample"
            className="input mono"
            rows={3}
            value={sample}
            onChange={(e) => setSample(e.target.value)}
          />
          {sampleError ? <span className="field-error">{sampleError}</span> : null}
        </div>
        <ErrorAlert error={create.error ?? update.error ?? deploy.error} />
        {version?.smoke.status === 'failed' ? (
          <div className="alert alert-error" role="alert">
            <strong>Smoke test failed: version {version.number} is not live.</strong> The previous version (if
            any) keeps serving.
            <pre className="mono endpoint-source">{version.smoke.error}</pre>
          </div>
        ) : null}
        {version?.smoke.status === 'passed' ? (
          <div className="alert alert-success" role="status">
            Version {version.number} is live at{' '}
            <code>
              /e/{workspace.slug}/{endpointLabel}
            </code>
            ; the smoke test returned <code>{JSON.stringify(version.smoke.result)}</code>.{' '}
            <Link href={`/w/${workspace.slug}/endpoints/${version.endpointId}`}>Open the endpoint</Link>
          </div>
        ) : null}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={props.onClose}>
            Close
          </button>
          <button
            type="submit"
            className="btn btn-primary"
            disabled={busy || !capture.data || sampleError !== null}
          >
            {deploy.isPending ? 'Deploying and smoke-testing…' : 'Deploy'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
