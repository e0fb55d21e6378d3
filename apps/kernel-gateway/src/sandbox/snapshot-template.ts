import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BASE_ENV, buildOciSpec, SANDBOX_UID } from './oci-spec.ts';
import {
  checkpointInstance,
  destroyInstance,
  type LaunchContext,
  launchInstance,
  warmUp,
} from './sandbox-instance.ts';

/** The template's memory limit only shapes what /proc/meminfo reports after restore; kernels get their own cgroup. */
const TEMPLATE_RESOURCES = { cpu: 1, memoryMiB: 4096 };
const TEMPLATE_WORKSPACE = 'kiln-snapshot-template';
const IMAGE_SNAPSHOTS = 'images';
/** Per workspace snapshots of sandboxes that imported an endpoint's module (module-snapshots.ts). */
const MODULE_SNAPSHOTS = 'modules';
/** How the template is made ready before its checkpoint (bumped when that changes, so old images go). */
const TEMPLATE_RECIPE = 'kernel_info served';

/**
 * Key of a snapshot: anything that changes the restored process changes the key, and so does the runsc
 * release and checkpoint format (a new runsc never restores an old runsc's image).
 */
export function snapshotKey(ctx: LaunchContext): string {
  const hash = createHash('sha256');
  hash.update(ctx.imageDir).update(ctx.cli.version).update(ctx.cli.globalFlags.join(' '));
  hash.update(ctx.cli.checkpointArgs.checkpoint.join(' ')).update(ctx.preload.join(','));
  hash.update(JSON.stringify(BASE_ENV)).update(TEMPLATE_RECIPE);
  // A restored sandbox keeps the template's mounts (a tmpfs's size, say): spec changes change the key.
  hash.update(
    JSON.stringify(
      buildOciSpec({
        paths: {
          imageDir: ctx.imageDir,
          agentDir: ctx.agentDir,
          channelDir: '-',
          volumeDir: '-',
          volRoot: '-',
        },
        resources: TEMPLATE_RESOURCES,
        env: {},
        cgroupsPath: '-',
        args: [],
        uid: SANDBOX_UID,
      }),
    ),
  );
  for (const file of readdirSync(ctx.agentDir)
    .filter((name) => name.endsWith('.py'))
    .sort()) {
    hash.update(file).update(readFileSync(join(ctx.agentDir, file)));
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * Boots one kernel with its libraries imported, checkpoints it, and keeps the image under
 * `<stateDir>/snapshots/<key>`; every later kernel restores from it instead of importing again.
 * Returns the image path. Reuses a complete image left by an earlier process. `scope` (a workspace
 * image's key) keeps that image's snapshots in their own folder.
 */
export async function ensureSnapshot(ctx: LaunchContext, options: { scope?: string } = {}): Promise<string> {
  // Workspace images keep their snapshots apart, so one image's new snapshot never sweeps another's.
  const parent = join(ctx.stateDir, 'snapshots');
  const dir = join(options.scope ? join(parent, IMAGE_SNAPSHOTS, options.scope) : parent, snapshotKey(ctx));
  const done = await stat(join(dir, 'complete')).then(
    () => true,
    () => false,
  );
  if (done) return dir;
  const building = `${dir}.building-${process.pid}`;
  await rm(building, { recursive: true, force: true });
  await mkdir(building, { recursive: true });
  const instance = await launchInstance(ctx, {
    workspaceId: TEMPLATE_WORKSPACE,
    resources: TEMPLATE_RESOURCES,
    env: {},
  });
  try {
    // Every restored kernel starts from here: what the first request costs is paid once, in the image.
    await warmUp(instance.channel);
    await checkpointInstance(instance, building);
  } finally {
    await destroyInstance(instance);
  }
  await writeFile(join(building, 'complete'), new Date().toISOString());
  await rm(dir, { recursive: true, force: true });
  await rename(building, dir);
  // Snapshots of an older agent, image or runsc are never restored again; an hour's grace covers another
  // process on the same state dir that is still restoring from one.
  const root = dirname(dir);
  for (const entry of await readdir(root)) {
    if (
      entry === basename(dir) ||
      entry === IMAGE_SNAPSHOTS ||
      entry === MODULE_SNAPSHOTS ||
      entry.includes('.building-')
    )
      continue;
    const info = await stat(join(root, entry)).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > 3_600_000)
      await rm(join(root, entry), { recursive: true, force: true });
  }
  return dir;
}
