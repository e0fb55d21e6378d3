/** The one kernel Kiln runs: Debian's ipykernel inside a gVisor sandbox. */
export const DEFAULT_KERNEL_NAME = 'python3';

const PYTHON3_SPEC = {
  argv: ['python3', '-m', 'ipykernel_launcher', '-f', '{connection_file}'],
  display_name: 'Python 3 (sandboxed)',
  language: 'python',
  // The gateway interrupts through the sandbox, so clients should use REST interrupt (signal mode).
  interrupt_mode: 'signal',
  env: {},
  metadata: { kiln: { sandbox: 'gvisor' } },
};

/** Kernel specs keyed by name, in Jupyter Server's shape. */
export function kernelSpecs(baseUrl = '') {
  return {
    [DEFAULT_KERNEL_NAME]: {
      name: DEFAULT_KERNEL_NAME,
      spec: PYTHON3_SPEC,
      resources: { 'kernel.json': `${baseUrl}/kernelspecs/${DEFAULT_KERNEL_NAME}/kernel.json` },
    },
  };
}

/** `GET /api/kernelspecs` body. */
export function kernelSpecList() {
  return { default: DEFAULT_KERNEL_NAME, kernelspecs: kernelSpecs() };
}

/** The `kernel.json` resource for a spec, or undefined when there is no such spec. */
export function kernelSpecFile(name: string) {
  return name === DEFAULT_KERNEL_NAME ? PYTHON3_SPEC : undefined;
}
