import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { MeterEventRecord, StripeObject, StripeState } from './state.ts';

interface Snapshot {
  version: 1;
  objects: StripeObject[];
  meterEvents: MeterEventRecord[];
  idempotency: [string, { fingerprint: string; status: number; body: string }][];
  events: StripeObject[];
}

/**
 * Keeps the server's state in a JSON file across restarts (for `npm start`, where Kiln's database
 * remembers customers, prices and meters by id and would otherwise point at objects that are gone).
 */
export function stateFile(path: string, state: StripeState) {
  return {
    /** Loads what an earlier run saved; nothing when the file does not exist yet. */
    load(): void {
      if (!existsSync(path)) return;
      const saved = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
      if (saved.version !== 1)
        throw new Error(`${path}: unknown state file version ${String(saved.version)}`);
      for (const object of saved.objects) state.objects.set(object.id, object);
      for (const record of saved.meterEvents) {
        state.meterEvents.push(record);
        state.meterIdentifiers.set(record.identifier, record);
      }
      for (const [key, stored] of saved.idempotency) state.idempotency.set(key, stored);
      state.events.push(...saved.events);
    },
    /** Writes the state whole, through a temporary file, so a crash mid-write keeps the last good copy. */
    save(): void {
      const snapshot: Snapshot = {
        version: 1,
        objects: [...state.objects.values()],
        meterEvents: state.meterEvents,
        idempotency: [...state.idempotency.entries()],
        events: state.events,
      };
      writeFileSync(`${path}.tmp`, JSON.stringify(snapshot), { mode: 0o600 });
      renameSync(`${path}.tmp`, path);
    },
  };
}
