import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunscKernelSandbox } from './kernel-sandbox.ts';
import { createRunscDriver, type RunscDriver } from './runsc-driver.ts';
import { probeRunsc } from './runsc-probe.ts';
import { ensureSandboxImage } from './sandbox-image.ts';
import { execute, removeTestState, TEST_STATE_DIR, testWorkspace } from './testing.ts';

// Issue 9's attack in real runsc: an editor, removed later, leaves startup files on the workspace's
// shared /workspace volume (a shell profile, usercustomize.py, a .pth file, an IPython startup
// script). Whoever opens a terminal or starts a kernel in that workspace afterwards must not run them.
// Kernels boot cold (no snapshot), so every startup path of the kernel itself is taken.
let driver: RunscDriver;
const workspaceId = testWorkspace();
const LOG = '/workspace/planted-ran.log';

beforeAll(async () => {
  const imageDir = await ensureSandboxImage();
  driver = createRunscDriver({
    stateDir: TEST_STATE_DIR,
    imageDir,
    warmPoolSize: 0,
    snapshots: false,
    features: (await probeRunsc()).features,
  });
  await driver.prepare();
}, 900_000);

afterAll(async () => {
  await driver?.close();
  await removeTestState();
});

/** Every planted file appends its name to LOG when it runs. */
const PLANT = `
import os, pathlib, sys
LOG = ${JSON.stringify(LOG)}
ver = f"python{sys.version_info[0]}.{sys.version_info[1]}"
py = lambda name: f"open({LOG!r}, 'a').write({name!r} + '\\\\n')\\n"
sh = lambda name: f"echo {name} >> ${LOG}\\n"
files = {
    "/workspace/.bash_profile": sh("bash_profile"),
    "/workspace/.bash_login": sh("bash_login"),
    "/workspace/.profile": sh("profile"),
    "/workspace/.bashrc": sh("bashrc"),
    f"/workspace/.local/lib/{ver}/site-packages/usercustomize.py": py("user-usercustomize"),
    f"/workspace/.local/lib/{ver}/site-packages/planted.pth": "import os; " + py("user-pth"),
    "/workspace/usercustomize.py": py("workspace-usercustomize"),
    "/workspace/sitecustomize.py": py("workspace-sitecustomize"),
    "/workspace/planted.pth": "import os; " + py("workspace-pth"),
    "/workspace/.ipython/profile_default/startup/00-planted.py": py("ipython-startup"),
    "/workspace/.ipython/profile_default/ipython_kernel_config.py": py("ipython-kernel-config"),
    "/workspace/.jupyter/jupyter_config.py": py("jupyter-config"),
}
for path, text in files.items():
    pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(path).write_text(text)
print(len(files))
`;

async function ran(kernel: RunscKernelSandbox): Promise<string[]> {
  const { stdout } = await execute(
    kernel,
    `import os\nprint(open(${JSON.stringify(LOG)}).read() if os.path.exists(${JSON.stringify(LOG)}) else '', end='')`,
  );
  return stdout.split('\n').filter(Boolean);
}

function terminal(kernel: RunscKernelSandbox, command: string): Promise<string> {
  const shell = kernel.openTerminal({ cols: 120, rows: 24 });
  let output = '';
  shell.onData((data) => {
    output += data;
  });
  const exited = new Promise<number>((resolve) => shell.onExit(resolve));
  shell.write(`${command}; exit 0\r`);
  return exited.then(() => output);
}

describe("a removed member's startup files on /workspace", { timeout: 300_000 }, () => {
  it('run neither in the next kernel, nor in its python3, nor in a terminal; they do when asked for', async () => {
    const intruder = await driver.start({
      kernelId: 'planted-intruder',
      workspaceId,
      resources: { cpu: 1, memoryMiB: 512 },
    });
    const planted = await execute(intruder, PLANT);
    expect(planted.reply.content.status, JSON.stringify(planted.reply.content)).toBe('ok');
    expect(planted.stdout.trim()).toBe('12');
    await intruder.shutdown();

    // The owner's next kernel boots on the same volume and runs python3 in /workspace, as a cell does.
    const owner = await driver.start({
      kernelId: 'planted-owner',
      workspaceId,
      resources: { cpu: 1, memoryMiB: 512 },
    });
    const child = await execute(
      owner,
      "import subprocess\nprint(subprocess.run(['python3', '-c', 'print(6*7)'], cwd='/workspace', capture_output=True, text=True).stdout, end='')",
    );
    expect(child.stdout).toBe('42\n');
    const shell = await terminal(owner, 'python3 -c \'print("py-" + "ok")\'; echo sh-$((6*7))');
    expect(shell).toContain('py-ok');
    expect(shell).toContain('sh-42');
    expect(await ran(owner)).toEqual([]);

    // The plants are real: with HOME and the user site on the volume, as before the fix, they run.
    await terminal(
      owner,
      'HOME=/workspace bash -l -c true; cd /workspace && HOME=/workspace PYTHONUSERBASE=/workspace/.local PYTHONNOUSERSITE= python3 -c pass',
    );
    expect(await ran(owner)).toEqual(
      expect.arrayContaining(['bash_profile', 'user-usercustomize', 'user-pth']),
    );
    await owner.shutdown();
  });
});
