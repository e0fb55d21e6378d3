import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DomainError, isUuid } from '@kiln/core';
import { createWorkspaceVolumes, ensurePlainVolume } from './workspace-volume.ts';

const FOLDER = 'named-volumes';

/**
 * Named volumes on this node: one ext4 image per volume (`<stateDir>/named-volumes/<workspace>--<volume>`),
 * sized by its plan's quota capped by the operator's maximum, so writes past it fail with ENOSPC in the
 * sandbox and the host never holds more than the image. Without quotas they are plain dirs.
 */
export interface NamedVolumes {
  /** Mounts (creating or growing) the volume; returns the host dir kernels and the file API share. */
  dir(workspaceId: string, volumeId: string, quotaMiB: number): Promise<string>;
  /** Deletes the volume and its files; CONFLICT while a kernel mounts it. */
  destroy(workspaceId: string, volumeId: string): Promise<void>;
  close(): Promise<void>;
}

export interface NamedVolumesOptions {
  stateDir: string;
  /** Largest volume in MiB; 0 turns quotas off (plain dirs). */
  maxMiB: number;
}

const VOLUME_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Where a volume appears in a sandbox; the name is checked again here, the gateway trusts no path. */
export function volumeMountPath(name: string): string {
  if (!VOLUME_NAME.test(name))
    throw new DomainError('BAD_REQUEST', `Invalid volume name ${JSON.stringify(name)}`);
  return `/vol/${name}`;
}

function keyOf(workspaceId: string, volumeId: string): string {
  if (!isUuid(volumeId)) throw new DomainError('NOT_FOUND', 'Volume not found');
  return `${workspaceId}--${volumeId}`;
}

/** Creates the manager of this node's named volumes. */
export function createNamedVolumes(options: NamedVolumesOptions): NamedVolumes {
  const images = options.maxMiB > 0 ? createWorkspaceVolumes(options.stateDir, FOLDER) : undefined;
  return {
    dir(workspaceId, volumeId, quotaMiB) {
      const key = keyOf(workspaceId, volumeId);
      if (!images) return ensurePlainVolume(options.stateDir, key, FOLDER);
      return images.ensure(key, Math.max(16, Math.min(Math.floor(quotaMiB), options.maxMiB)));
    },
    async destroy(workspaceId, volumeId) {
      const key = keyOf(workspaceId, volumeId);
      if (images) await images.destroy(key);
      else await rm(join(options.stateDir, FOLDER, key), { recursive: true, force: true });
    },
    async close() {
      await images?.close();
    },
  };
}
