import { describe, expect, it } from 'vitest';
import { volumeMountPath } from './named-volumes.ts';
import { buildOciSpec } from './oci-spec.ts';

function specMounts() {
  const spec = buildOciSpec({
    paths: {
      imageDir: '/img',
      agentDir: '/agent',
      channelDir: '/chan',
      volumeDir: '/ws',
      volRoot: '/run/x/vol',
    },
    resources: { cpu: 1, memoryMiB: 512 },
    env: {},
    cgroupsPath: '/kiln/x',
    args: ['/bin/true'],
    uid: 1000,
  }) as { mounts: { destination: string; type: string; source: string; options?: string[] }[] };
  return spec.mounts;
}

describe('named volume mounts in the OCI spec', () => {
  it("binds the sandbox's own host dir at /vol, recursively and without suid or devices", () => {
    const mounts = specMounts();
    const at = (destination: string) => mounts.find((mount) => mount.destination === destination);
    // Volumes are bound below it on the host (before a restore or into a running spare), so the spec,
    // and with it the snapshot, is the same with or without volumes.
    expect(at('/vol')).toEqual({
      destination: '/vol',
      type: 'bind',
      source: '/run/x/vol',
      options: ['rbind', 'nosuid', 'nodev', 'rw'],
    });
    expect(mounts.filter((mount) => mount.destination.startsWith('/vol/'))).toEqual([]);
    // /workspace keeps its own disk.
    expect(at('/workspace')).toMatchObject({ source: '/ws' });
  });

  it('refuses volume names that could point a mount elsewhere', () => {
    expect(volumeMountPath('data-1')).toBe('/vol/data-1');
    for (const bad of ['../etc', 'a/b', '', '.', 'Data', `x${'y'.repeat(63)}`])
      expect(() => volumeMountPath(bad), bad).toThrow(/Invalid volume name/);
  });
});
