export {
  type DiskEntry,
  type DiskMoveInput,
  type DiskMoveOptions,
  type DiskMoveResult,
  type DiskPlacement,
  type DiskRef,
  type DiskTransfer,
  diskHolders,
  diskPlacement,
  moveDisk,
  type NodeDisk,
  reapId,
} from './disk-move.ts';
export {
  type ClaimedDisk,
  claimDiskMove,
  DISK_MOVE_LEASE_MS,
  DISK_MOVE_RENEW_MS,
  DISK_MOVING_MESSAGE,
  type DiskMoveClaim,
  type DiskMoveInProgress,
  diskMoveInProgress,
  diskMoving,
  noteDiskWrite,
  settleClaim,
} from './disk-move-claim.ts';
export {
  deletedVolumeReason,
  type LiveMount,
  type PendingErase,
  pendingErasures,
  type ReapResult,
  reapVolumes,
  type VolumeHolder,
  type VolumeReaperOptions,
} from './volume-deletion.ts';
export {
  type VolumeMount,
  type VolumeQuotas,
  type VolumeRef,
  volumeMounts,
  volumeQuotaMiB,
} from './volume-mounts.ts';
export { VOLUME_NAME, validateVolumeName, volumeMountPath } from './volume-name.ts';
export {
  createVolumes,
  MAX_VOLUMES_PER_NOTEBOOK,
  type NotebookVolumeUse,
  type VolumeActor,
  type VolumeSummary,
  type Volumes,
  type VolumesOptions,
} from './volume-store.ts';
