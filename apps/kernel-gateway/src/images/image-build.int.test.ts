import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createGatewayClient, type GatewayClient, type ImageBuildView } from '@kiln/kernel-protocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWheel, servePackageIndex } from '../../test/package-index.ts';
import { startRunscGateway } from '../../test/runsc-gateway.ts';
import { ensureSandboxImage } from '../sandbox/sandbox-image.ts';
import { createImageBuilder } from './image-builder.ts';

// A workspace image with one Debian package from this machine's apt sources (GNU hello) and one wheel
// from a package index this test serves on loopback, built by the gateway and run in a runsc kernel.
let gateway: Awaited<ReturnType<typeof startRunscGateway>>;
let index: Awaited<ReturnType<typeof servePackageIndex>>;
let client: GatewayClient;
let imagesDir: string;
const wheelDir = mkdtempSync(join(tmpdir(), 'kiln-wheels-'));
const marker = `probe-${randomUUID().slice(0, 8)}`;
const spec = { debian: ['hello'], python: ['kiln-probe==0.1'] };

/** Runs code and returns its stdout. */
async function run(kernelId: string, code: string): Promise<{ status: unknown; stdout: string }> {
  const channel = await client.connect(kernelId);
  try {
    const { reply, iopub } = await channel.execute(code);
    const stdout = iopub
      .filter((m) => m.header.msg_type === 'stream' && m.content.name === 'stdout')
      .map((m) => String(m.content.text))
      .join('');
    return { status: reply.content.status, stdout };
  } finally {
    await channel.close();
  }
}

async function untilFinal(view: ImageBuildView): Promise<ImageBuildView & { fullLog: string }> {
  let fullLog = view.log;
  let current = view;
  const deadline = Date.now() + 15 * 60_000;
  while (current.state === 'queued' || current.state === 'building') {
    if (Date.now() > deadline) throw new Error(`build ${view.key} still ${current.state}:\n${fullLog}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    current = await client.imageBuild(view.key, current.next);
    fullLog += current.log;
  }
  return { ...current, fullLog };
}

beforeAll(async () => {
  buildWheel(wheelDir, {
    name: 'kiln-probe',
    version: '0.1',
    module: 'kiln_probe',
    source: `VALUE = ${JSON.stringify(marker)}\n`,
  });
  index = await servePackageIndex(wheelDir);
  // Beside the base image, on its disk, so unchanged files can be hard links to it (as in production).
  const base = await ensureSandboxImage();
  imagesDir = mkdtempSync(join(dirname(base), '.test-images-'));
  gateway = await startRunscGateway({}, { imagesDir, pipIndexUrl: index.url, timeoutMs: 10 * 60_000 });
  client = createGatewayClient({ baseUrl: gateway.url, token: gateway.tokenA });
}, 900_000);

afterAll(async () => {
  await gateway?.close();
  await index?.close();
  await rm(wheelDir, { recursive: true, force: true });
  if (imagesDir) await rm(imagesDir, { recursive: true, force: true });
});

describe('workspace images', () => {
  let built: ImageBuildView & { fullLog: string };

  it('builds an image with a Debian package and a wheel from a local index, streaming the log', async () => {
    const started = await client.buildImage(spec);
    expect(['queued', 'building']).toContain(started.state);
    built = await untilFinal(started);
    expect(built.state, built.fullLog).toBe('ready');
    expect(built.fullLog).toContain('== apt-get install hello');
    expect(built.fullLog).toMatch(/Successfully installed kiln-probe-0\.1/);
    expect(index.downloads()).toBe(1);
    // Hard links to the base image cost nothing: the image adds tens of MiB, not the base's 1.4 GB.
    expect(built.sizeBytes).toBeGreaterThan(0);
    expect(built.sizeBytes).toBeLessThan(200 * 1024 * 1024);
  }, 900_000);

  it('runs a kernel on the image: the package and the wheel are there, the network is not', async () => {
    const kernel = await client.startKernel({ image: spec, resources: { cpu: 1, memoryMiB: 1024 } });
    const { status, stdout } = await run(
      kernel.id,
      [
        'import subprocess, socket, kiln_probe',
        "print(subprocess.run(['/usr/bin/hello'], capture_output=True, text=True).stdout.strip())",
        'print(kiln_probe.VALUE)',
        's = socket.socket()',
        's.settimeout(3)',
        `print('network', s.connect_ex(('127.0.0.1', ${index.port})) == 0)`,
      ].join('\n'),
    );
    expect(status).toBe('ok');
    expect(stdout).toContain('Hello, world!');
    expect(stdout).toContain(marker);
    expect(stdout).toContain('network False');
    await client.shutdownKernel(kernel.id);
    // The image got its own snapshot, so its next kernel restores instead of booting cold.
    const snapshots = join(gateway.stateDir, 'snapshots', 'images', built.key);
    expect(
      existsSync(snapshots) && readdirSync(snapshots).some((entry) => /^[0-9a-f]{16}$/.test(entry)),
    ).toBe(true);
    const again = await client.startKernel({ image: spec, resources: { cpu: 1, memoryMiB: 1024 } });
    expect(again.started_from).toBe('snapshot');
    expect((await run(again.id, 'import kiln_probe; print(kiln_probe.VALUE)')).stdout).toContain(marker);
    await client.shutdownKernel(again.id);
  }, 600_000);

  it('keeps base-image kernels free of the image', async () => {
    const kernel = await client.startKernel({ resources: { cpu: 1, memoryMiB: 1024 } });
    const { stdout } = await run(
      kernel.id,
      "import importlib.util, os; print(importlib.util.find_spec('kiln_probe') is None, os.path.exists('/usr/bin/hello'))",
    );
    expect(stdout).toContain('True False');
    await client.shutdownKernel(kernel.id);
  }, 300_000);

  it('has pip in the base image, installing a local wheel for the user without any network', async () => {
    const wheel = readFileSync(join(wheelDir, 'kiln_probe-0.1-py3-none-any.whl')).toString('base64');
    const kernel = await client.startKernel({ resources: { cpu: 1, memoryMiB: 1024 } });
    const { status, stdout } = await run(
      kernel.id,
      [
        'import base64, os, subprocess',
        "os.makedirs('/tmp/wheels', exist_ok=True)",
        `open('/tmp/wheels/kiln_probe-0.1-py3-none-any.whl', 'wb').write(base64.b64decode('${wheel}'))`,
        "r = subprocess.run(['pip', 'install', '--user', '--no-index', '--find-links', '/tmp/wheels', 'kiln-probe'], capture_output=True, text=True)",
        'print(r.returncode, r.stdout[-300:], r.stderr[-300:])',
        "r = subprocess.run(['python3', '-c', 'import kiln_probe; print(kiln_probe.VALUE)'], capture_output=True, text=True, env={**os.environ, 'PYTHONNOUSERSITE': ''})",
        "print('imported', r.stdout.strip())",
      ].join('\n'),
    );
    expect(status).toBe('ok');
    expect(stdout).toMatch(/^0 .*Successfully installed kiln-probe-0\.1/s);
    expect(stdout).toContain(`imported ${marker}`);
    await client.shutdownKernel(kernel.id);
  }, 300_000);

  it('reuses a built image for the same spec in any order: no rebuild, no download', async () => {
    const dir = join(imagesDir, built.key);
    const before = statSync(dir).mtimeMs;
    const again = await client.buildImage({ python: ['kiln-probe==0.1'], debian: ['hello', 'hello'] });
    expect(again.key).toBe(built.key);
    expect(again.state).toBe('ready');
    expect(index.downloads()).toBe(1);
    expect(statSync(dir).mtimeMs).toBe(before);
  });

  it('fails a build with the reason from its log and keeps other images', async () => {
    const failed = await untilFinal(await client.buildImage({ debian: ['kiln-no-such-package'] }));
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(/Unable to locate package kiln-no-such-package/);
    expect(readdirSync(imagesDir).filter((entry) => !entry.endsWith('.json'))).toEqual([built.key]);
  }, 600_000);

  it('refuses package names that would be pip or apt options, with a clear error', async () => {
    await expect(
      client.buildImage({ python: ['--index-url=http://example.invalid/'] }),
    ).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/not a valid entry of Python packages/),
    });
    await expect(client.buildImage({ debian: ['-o=APT::Foo'] })).rejects.toMatchObject({ status: 400 });
    await expect(client.startKernel({ image: { debian: ['Bad Name'] } })).rejects.toMatchObject({
      status: 400,
    });
  });
});

describe('image build bounds', () => {
  it('kills a build past its time limit, leaving no process, mount or half-built image behind', async () => {
    const base = await ensureSandboxImage();
    const dir = mkdtempSync(join(dirname(base), '.test-images-'));
    try {
      const builder = createImageBuilder({ baseImageDir: base, imagesDir: dir, timeoutMs: 3000 });
      const started = await builder.build({ debian: ['hello'], python: [] });
      let failed = started;
      while (failed.state === 'queued' || failed.state === 'building') {
        await new Promise((resolve) => setTimeout(resolve, 200));
        failed = await builder.get(started.key);
      }
      expect(failed.state).toBe('failed');
      expect(failed.error).toMatch(/ran past its limit of 3 s/);
      expect(readFileSync('/proc/mounts', 'utf8')).not.toContain(dir);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
