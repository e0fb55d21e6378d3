import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, join } from 'node:path';

/** Where the host's NVIDIA user-space driver appears inside a GPU sandbox (the GKE convention). */
export const GPU_DRIVER_DIR = '/usr/local/nvidia';

/** A host character device passed into the sandbox. */
export interface DeviceNode {
  path: string;
  major: number;
  minor: number;
}

/** What the host offers a GPU sandbox: device nodes and a dir holding the driver's libraries and tools. */
export interface NvidiaHost {
  /** `/dev/nvidiactl`, `/dev/nvidia-uvm` and one `/dev/nvidia<N>` per GPU index. */
  control: DeviceNode[];
  gpus: Map<number, DeviceNode>;
  /** Host dir with `lib64/` (libcuda, libnvidia-ml, ...) and `bin/` (nvidia-smi), mounted read-only. */
  driverDir: string;
  /** The host driver's version (libcuda's, e.g. `550.90.07`), which nvproxy must support. */
  driverVersion: string;
}

/**
 * Adds GPU passthrough through gVisor's nvproxy to a sandbox's OCI spec, as gVisor documents for runsc
 * without Docker: the placed GPUs' device nodes plus the control nodes in `linux.devices` (and allowed in
 * the device cgroup), `NVIDIA_VISIBLE_DEVICES` naming the indices, and the host driver's user-space
 * libraries mounted read-only. The sandbox must also run with `--nvproxy`. Pure: tested without a GPU.
 */
export function addGpuPassthrough(
  spec: Record<string, unknown>,
  host: NvidiaHost,
  gpuIndices: number[],
): Record<string, unknown> {
  if (gpuIndices.length === 0) return spec;
  const nodes = [...host.control];
  for (const index of gpuIndices) {
    const node = host.gpus.get(index);
    if (!node) throw new Error(`GPU ${index} has no device node on this host (/dev/nvidia${index})`);
    nodes.push(node);
  }
  const process = spec.process as { env: string[] };
  const linux = spec.linux as Record<string, unknown> & { resources: Record<string, unknown> };
  const env = process.env.filter((entry) => !/^(NVIDIA_VISIBLE_DEVICES|LD_LIBRARY_PATH)=/.test(entry));
  const path = env.find((entry) => entry.startsWith('PATH='))?.slice(5) ?? '/usr/bin:/bin';
  return {
    ...spec,
    process: {
      ...process,
      env: [
        ...env.filter((entry) => !entry.startsWith('PATH=')),
        `PATH=${path}:${GPU_DRIVER_DIR}/bin`,
        `LD_LIBRARY_PATH=${GPU_DRIVER_DIR}/lib64`,
        `NVIDIA_VISIBLE_DEVICES=${gpuIndices.join(',')}`,
        'NVIDIA_DRIVER_CAPABILITIES=compute,utility',
      ],
    },
    mounts: [
      ...(spec.mounts as unknown[]),
      {
        destination: GPU_DRIVER_DIR,
        type: 'bind',
        source: host.driverDir,
        options: ['rbind', 'ro', 'nosuid'],
      },
    ],
    linux: {
      ...linux,
      devices: nodes.map((node) => ({
        path: node.path,
        type: 'c',
        major: node.major,
        minor: node.minor,
        fileMode: 0o666,
        uid: 0,
        gid: 0,
      })),
      resources: {
        ...linux.resources,
        devices: [
          { allow: false, access: 'rwm' },
          ...nodes.map((node) => ({
            allow: true,
            type: 'c',
            major: node.major,
            minor: node.minor,
            access: 'rw',
          })),
        ],
      },
    },
  };
}

/** Major/minor of a device node, or undefined when it does not exist. */
export function deviceNode(path: string): DeviceNode | undefined {
  try {
    const info = statSync(path);
    if (!info.isCharacterDevice()) return undefined;
    const rdev = info.rdev;
    // Linux's encoding (new_decode_dev): 12 bits of major, 20 of minor, split around the low byte.
    return { path, major: (rdev >> 8) & 0xfff, minor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00) };
  } catch {
    return undefined;
  }
}

/** Driver libraries CUDA programs and nvidia-smi open at run time. */
const DRIVER_LIBRARIES = [
  'libcuda.so.1',
  'libnvidia-ml.so.1',
  'libnvidia-ptxjitcompiler.so.1',
  'libnvidia-nvvm.so.4',
  'libcudadebugger.so.1',
];

/**
 * Finds the host's NVIDIA devices and user-space driver, and copies the driver's libraries and
 * nvidia-smi into `<cacheDir>/<driver>` (the sandbox's read-only root has no room to mount single files).
 * Returns the reason instead where there is no usable NVIDIA driver.
 */
export function discoverNvidiaHost(cacheDir: string): NvidiaHost | string {
  const ctl = deviceNode('/dev/nvidiactl');
  if (!ctl) return 'no /dev/nvidiactl (no NVIDIA driver loaded on this host)';
  const uvm = deviceNode('/dev/nvidia-uvm');
  if (!uvm) return 'no /dev/nvidia-uvm (load nvidia-uvm, e.g. by running nvidia-smi once as root)';
  const gpus = new Map<number, DeviceNode>();
  for (let index = 0; index < 64; index++) {
    const node = deviceNode(`/dev/nvidia${index}`);
    if (node) gpus.set(index, node);
  }
  let ldconfig: string;
  try {
    ldconfig = execFileSync('ldconfig', ['-p'], { encoding: 'utf8' });
  } catch (error) {
    return `cannot list the host's libraries: ${String(error)}`;
  }
  const found = new Map<string, string>();
  for (const line of ldconfig.split('\n')) {
    const match = /^\s*(\S+) \(libc6,x86-64[^)]*\) => (\S+)$/.exec(line);
    if (match?.[1] && match[2] && DRIVER_LIBRARIES.includes(match[1]) && !found.has(match[1]))
      found.set(match[1], match[2]);
  }
  const libcuda = found.get('libcuda.so.1');
  if (!libcuda) return 'no libcuda.so.1 on this host';
  const version = /\.so\.(\d+\.\d+(?:\.\d+)?)$/.exec(realpathSync(libcuda))?.[1] ?? 'unknown';
  const driverDir = join(cacheDir, `nvidia-${version}`);
  if (!existsSync(join(driverDir, 'complete'))) {
    const building = `${driverDir}.building-${process.pid}`;
    rmSync(building, { recursive: true, force: true });
    mkdirSync(join(building, 'lib64'), { recursive: true });
    mkdirSync(join(building, 'bin'), { recursive: true });
    for (const [soname, path] of found) {
      const real = realpathSync(path);
      copyFileSync(real, join(building, 'lib64', basename(real)));
      if (basename(real) !== soname) symlinkSync(basename(real), join(building, 'lib64', soname));
    }
    // Unversioned names, for programs that dlopen("libcuda.so") (ctypes.util's first guess).
    symlinkSync('libcuda.so.1', join(building, 'lib64', 'libcuda.so'));
    const smi = ['/usr/bin/nvidia-smi', '/usr/local/bin/nvidia-smi'].find((candidate) =>
      existsSync(candidate),
    );
    if (smi) copyFileSync(realpathSync(smi), join(building, 'bin', 'nvidia-smi'));
    writeFileSync(join(building, 'complete'), version);
    rmSync(driverDir, { recursive: true, force: true });
    renameSync(building, driverDir);
  }
  return { control: [ctl, uvm], gpus, driverDir, driverVersion: version };
}
