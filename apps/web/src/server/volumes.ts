import type { Scheduler } from '@kiln/scheduler';
import { createVolumes, type Volumes } from '@kiln/volumes';
import { getEnv } from '../env.ts';
import { getDb } from './db.ts';
import { createVolumeDisks } from './volume-disks.ts';

let volumes: Volumes | undefined;

/** The process's volumes service (default plan limits). */
export function getVolumes(): Volumes {
  volumes ??= createVolumes({ db: getDb() });
  return volumes;
}

let disks: ReturnType<typeof createVolumeDisks> | undefined;
let scheduler: Pick<Scheduler, 'stop'> | undefined;

/** The process's scheduler: deleting a volume stops (and records) the kernels that mount it. */
export function setVolumeScheduler(value: Pick<Scheduler, 'stop'>): void {
  scheduler = value;
  disks = undefined;
}

/** Erases deleted volumes' disks on their nodes; undefined without a gateway. */
export function getVolumeDisks() {
  const gateway = getEnv().kernelGateway;
  if (!gateway) return undefined;
  disks ??= createVolumeDisks({ db: getDb(), secret: gateway.secret, scheduler });
  return disks;
}
