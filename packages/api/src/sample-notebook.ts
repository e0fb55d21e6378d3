import type { NotebookJson } from '@kiln/notebook';

const md = (source: string) => ({ cell_type: 'markdown', metadata: {}, source });
const code = (source: string) => ({
  cell_type: 'code',
  metadata: {},
  source,
  outputs: [],
  execution_count: null,
});

/**
 * The notebook a new user is offered first: a kernel of their own, a plot, and inviting someone to
 * work in it with them. `membersUrl` is the workspace's members page.
 */
export function sampleNotebook(membersUrl: string): NotebookJson {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' },
      language_info: { name: 'python' },
    },
    cells: [
      md(
        '# Welcome to Kiln\n\nThis notebook runs on a Python kernel of its own, in a sandbox. Select a cell and press ' +
          '**Shift+Enter** to run it and move to the next one. Press **H** (outside a cell) for every shortcut.',
      ),
      md(
        '## 1. A kernel of your own\n\nThe kernel starts on the first run and keeps its variables between cells.',
      ),
      code(
        'import platform, os\n' +
          "print(f'Python {platform.python_version()} on {platform.machine()}')\n" +
          "print(f'{os.cpu_count()} CPU cores; files in /workspace stay with the workspace')",
      ),
      md(
        '## 2. A plot\n\nOutputs are part of the shared document: collaborators see them live, even when you close the tab.',
      ),
      code(
        'import numpy as np\n' +
          'import matplotlib.pyplot as plt\n\n' +
          'x = np.linspace(0, 4 * np.pi, 400)\n' +
          'fig, ax = plt.subplots(figsize=(7, 3))\n' +
          "ax.plot(x, np.sin(x), label='sin')\n" +
          "ax.plot(x, np.cos(x) * np.exp(-x / 8), label='damped cos')\n" +
          "ax.legend(); ax.set_title('Your first plot in Kiln')\n" +
          'plt.show()',
      ),
      md(
        '## 3. Invite a collaborator\n\nPress **Share** at the top of this notebook, or open ' +
          `[Members](${membersUrl}), and invite someone as an **Editor**. You will see their cursor and ` +
          'their runs in this notebook as they happen.',
      ),
    ],
  };
}
