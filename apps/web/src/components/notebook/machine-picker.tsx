'use client';
import { GPU_TYPE_NAMES } from '@kiln/scheduler/gpu-types';
import type { MachineChoices } from './use-kernel-actions.ts';

/** What the picker's fields hold, as typed (validated by the server on save). */
export interface MachineValue {
  cpu: string;
  memoryGiB: string;
  /** A GPU type of the scheduler's catalog, or `none`. */
  gpu: string;
}

function gib(memoryMiB: number): number {
  return Math.round((memoryMiB / 1024) * 10) / 10;
}

/** " · $0.59/h · starts now" for an option of the GPU select. */
function choiceNote(choice: MachineChoices['choices'][number] | undefined): string {
  if (!choice) return '';
  const verdict = { now: 'starts now', queue: 'would wait', refused: 'unavailable' }[choice.verdict];
  return ` · $${choice.pricePerHour.toFixed(2)}/h · ${verdict}`;
}

// The scheduler's catalog, so the picker offers exactly the GPU strings the server accepts.
const GPU_CHOICES: readonly string[] = GPU_TYPE_NAMES;

/** The machine a value asks for, as the scheduler takes it. */
export function machineOf(value: MachineValue): { cpu: number; memoryMiB: number; gpu: string | null } {
  return {
    cpu: Number(value.cpu),
    memoryMiB: Math.round(Number(value.memoryGiB) * 1024),
    gpu: value.gpu === 'none' ? null : value.gpu,
  };
}

/**
 * CPU, memory and GPU fields, each GPU choice with its price per hour and whether it starts now, would
 * wait or is unavailable here, and why (`choices`, from the scheduler); shared by the notebook's
 * "Change machine" dialog and the endpoint deploy dialog.
 */
export function MachinePicker(props: {
  value: MachineValue;
  onChange(value: MachineValue): void;
  choices: MachineChoices | null;
  /** GPU strings to offer besides the catalog's (a saved shape such as `H100:2`). */
  extraGpus?: readonly string[];
}) {
  const { value, choices } = props;
  const set = (patch: Partial<MachineValue>) => props.onChange({ ...value, ...patch });
  const choiceOf = (name: string) => choices?.choices.find((c) => (c.gpu ?? 'none') === name);
  const chosen = choiceOf(value.gpu);
  return (
    <>
      <label className="field">
        <span>CPU cores</span>
        <input
          className="input"
          type="number"
          min="0.125"
          max="64"
          step="0.125"
          value={value.cpu}
          onChange={(e) => set({ cpu: e.target.value })}
        />
      </label>
      <label className="field">
        <span>Memory (GiB)</span>
        <input
          className="input"
          type="number"
          min="0.125"
          max="256"
          step="0.125"
          value={value.memoryGiB}
          onChange={(e) => set({ memoryGiB: e.target.value })}
        />
      </label>
      <label className="field">
        <span>GPU</span>
        <select className="select" value={value.gpu} onChange={(event) => set({ gpu: event.target.value })}>
          <option value="none">None (CPU only){choiceNote(choiceOf('none'))}</option>
          {[...new Set([...GPU_CHOICES, ...(props.extraGpus ?? [])])].map((choice) => (
            <option key={choice} value={choice} disabled={choiceOf(choice)?.verdict === 'refused'}>
              {choice}
              {choiceNote(choiceOf(choice))}
            </option>
          ))}
        </select>
      </label>
      {chosen?.reason ? (
        <p className="muted small" data-testid="machine-verdict">
          {chosen.verdict === 'refused' ? 'Not available: ' : ''}
          {chosen.reason}
        </p>
      ) : null}
      {choices ? (
        <p className="muted small">
          Prices at {choices.cpu} CPU and {gib(choices.memoryMiB)} GB on the {choices.plan} plan.
        </p>
      ) : null}
    </>
  );
}
