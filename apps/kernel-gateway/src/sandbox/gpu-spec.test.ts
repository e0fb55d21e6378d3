import { describe, expect, it } from 'vitest';
import { addGpuPassthrough, GPU_DRIVER_DIR, type NvidiaHost } from './gpu-spec.ts';
import { buildOciSpec } from './oci-spec.ts';

// A host with four GPUs, as /dev on an NVIDIA machine has them (majors: 195 for nvidia, uvm dynamic).
const host: NvidiaHost = {
  control: [
    { path: '/dev/nvidiactl', major: 195, minor: 255 },
    { path: '/dev/nvidia-uvm', major: 508, minor: 0 },
  ],
  gpus: new Map(
    [0, 1, 2, 3].map((index) => [index, { path: `/dev/nvidia${index}`, major: 195, minor: index }]),
  ),
  driverDir: '/var/lib/kiln/nvidia/nvidia-550.54.15',
  driverVersion: '550.54.15',
};

const base = () =>
  buildOciSpec({
    paths: {
      imageDir: '/img',
      agentDir: '/agent',
      channelDir: '/chan',
      volumeDir: '/vol',
      volRoot: '/volroot',
    },
    resources: { cpu: 2, memoryMiB: 4096 },
    env: { FOO: 'bar' },
    cgroupsPath: '/kiln/x',
    args: ['/usr/bin/python3'],
    uid: 1000,
  });

type Spec = {
  process: { env: string[] };
  mounts: { destination: string; source: string; options?: string[] }[];
  linux: {
    devices?: { path: string; type: string; major: number; minor: number }[];
    resources: {
      devices?: { allow: boolean; type?: string; major?: number; minor?: number; access: string }[];
    };
  };
};

describe('GPU passthrough in the OCI spec (nvproxy)', () => {
  it('passes exactly the placed GPUs plus the control devices, and allows only those in the device cgroup', () => {
    const spec = addGpuPassthrough(base(), host, [1, 3]) as Spec;
    expect(spec.linux.devices?.map((d) => d.path)).toEqual([
      '/dev/nvidiactl',
      '/dev/nvidia-uvm',
      '/dev/nvidia1',
      '/dev/nvidia3',
    ]);
    expect(spec.linux.devices?.[3]).toMatchObject({ type: 'c', major: 195, minor: 3 });
    const rules = spec.linux.resources.devices ?? [];
    expect(rules[0]).toEqual({ allow: false, access: 'rwm' });
    expect(rules.filter((rule) => rule.allow).map((rule) => `${rule.major}:${rule.minor}`)).toEqual([
      '195:255',
      '508:0',
      '195:1',
      '195:3',
    ]);
    // GPUs 0 and 2 belong to other kernels.
    expect(JSON.stringify(spec)).not.toMatch(/nvidia[02]"/);
  });

  it('names the GPUs for nvproxy and puts the driver libraries and nvidia-smi on the paths', () => {
    const spec = addGpuPassthrough(base(), host, [2]) as Spec;
    const env = spec.process.env;
    expect(env).toContain('NVIDIA_VISIBLE_DEVICES=2');
    expect(env).toContain(`LD_LIBRARY_PATH=${GPU_DRIVER_DIR}/lib64`);
    expect(env).toContain(`PATH=/usr/local/bin:/usr/bin:/bin:${GPU_DRIVER_DIR}/bin`);
    expect(env).toContain('FOO=bar');
    expect(env.filter((entry) => entry.startsWith('PATH='))).toHaveLength(1);
    const driver = spec.mounts.find((mount) => mount.destination === GPU_DRIVER_DIR);
    expect(driver).toMatchObject({ source: host.driverDir });
    expect(driver?.options).toContain('ro');
  });

  it('leaves CPU kernels untouched and refuses a GPU the host has no device node for', () => {
    const spec = base();
    expect(addGpuPassthrough(spec, host, [])).toBe(spec);
    expect(() => addGpuPassthrough(base(), host, [7])).toThrow(/GPU 7 has no device node.*\/dev\/nvidia7/);
  });

  it('keeps the rest of the spec: limits, other mounts, namespaces', () => {
    const before = base() as Spec & Record<string, unknown>;
    const after = addGpuPassthrough(base(), host, [0]) as Spec & Record<string, unknown>;
    expect(after.mounts.slice(0, before.mounts.length)).toEqual(before.mounts);
    expect((after.linux as Record<string, unknown>).namespaces).toEqual(
      (before.linux as Record<string, unknown>).namespaces,
    );
    expect((after.linux.resources as Record<string, unknown>).memory).toEqual({ limit: 4096 * 1024 * 1024 });
  });
});
