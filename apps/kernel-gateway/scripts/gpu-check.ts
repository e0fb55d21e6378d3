// Starts one GPU kernel through the runsc driver (nvproxy) and checks, from inside its sandbox, that
// nvidia-smi lists the placed GPU and that CUDA (libcuda through ctypes) counts it. Run as root on a host
// with an NVIDIA GPU: scripts/gpu-check.sh [--out bench/results/gpu-check.md]
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalPlacement, discoverGpus } from '@kiln/scheduler';
import { createRunscDriver } from '../src/sandbox/runsc-driver.ts';
import { probeRunsc } from '../src/sandbox/runsc-probe.ts';
import { ensureSandboxImage } from '../src/sandbox/sandbox-image.ts';
import { execute } from '../src/sandbox/testing.ts';

const CHECK = `
import ctypes, subprocess
smi = subprocess.run(['nvidia-smi', '-L'], capture_output=True, text=True)
print('nvidia-smi exit', smi.returncode)
print(smi.stdout.strip() or smi.stderr.strip())
cuda = ctypes.CDLL('libcuda.so.1')
count = ctypes.c_int(-1)
print('cuInit', cuda.cuInit(0))
print('cuDeviceGetCount', cuda.cuDeviceGetCount(ctypes.byref(count)), 'count', count.value)
`;

async function main(): Promise<number> {
  const out = process.argv.includes('--out') ? process.argv[process.argv.indexOf('--out') + 1] : undefined;
  const inventory = await discoverGpus();
  const lines = [`# GPU check: a Kiln kernel on gVisor nvproxy`, '', `Run ${new Date().toISOString()}.`, ''];
  const say = (line: string) => {
    console.log(line);
    lines.push(line);
  };
  say(
    `Host inventory (${inventory.source}): ${inventory.devices.map((d) => `${d.index}: ${d.productName}`).join(', ') || 'none'}${inventory.note ? ` (${inventory.note})` : ''}`,
  );
  const first = inventory.devices[0];
  if (!first?.type) {
    say('No supported NVIDIA GPU on this host: nothing to check.');
    if (out) writeFileSync(out, `${lines.join('\n')}\n`);
    return 2;
  }
  const driver = createRunscDriver({
    stateDir: join(tmpdir(), 'kiln-gpu-check-state'),
    imageDir: await ensureSandboxImage(),
    placement: createLocalPlacement({ inventory }),
    warmPoolSize: 0,
    features: (await probeRunsc()).features,
  });
  say(`Driver: ${driver.describe()}`);
  say(
    `Host drivers this nvproxy supports: ${driver.features.nvproxyDrivers?.join(', ') ?? 'not listed by this runsc'}`,
  );
  try {
    const kernel = await driver.start({
      kernelId: 'gpu-check',
      workspaceId: 'kiln-gpu-check',
      resources: { cpu: 2, memoryMiB: 8192, gpu: `${first.type}:1` },
    });
    const { stdout, reply } = await execute(kernel, CHECK);
    say('');
    say('```');
    for (const line of stdout.trim().split('\n')) say(line);
    say('```');
    const ok =
      reply.content.status === 'ok' &&
      /nvidia-smi exit 0/.test(stdout) &&
      /^GPU 0:/m.test(stdout) &&
      /cuDeviceGetCount 0 count 1\b/.test(stdout);
    say(
      ok
        ? 'PASS: the kernel sees exactly its one GPU.'
        : `FAIL (${String(reply.content.ename ?? 'see output')})`,
    );
    await kernel.shutdown();
    return ok ? 0 : 1;
  } catch (error) {
    say(`FAIL: ${String(error)}`);
    return 1;
  } finally {
    await driver.close();
    if (out) writeFileSync(out, `${lines.join('\n')}\n`);
  }
}

main().then((code) => process.exit(code));
