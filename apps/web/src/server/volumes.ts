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

/** Erases deleted volumes' disks on their nodes; undefined without a gateway. */
export function getVolumeDisks() {
  const gateway = getEnv().kernelGateway;
  if (!gateway) return undefined;
  disks ??= createVolumeDisks({ db: getDb(), secret: gateway.secret });
  return disks;
}
