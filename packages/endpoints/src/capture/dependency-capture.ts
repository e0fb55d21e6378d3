import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { DomainError } from '@kiln/core';
import { CAPTURE_SCRIPT } from './capture-script.ts';

/** One parameter of the captured function, as `inspect` would describe it. */
export interface CapturedParameter {
  name: string;
  kind: 'positional_only' | 'keyword' | 'keyword_only' | 'var_positional' | 'var_keyword';
  required: boolean;
  /** The default's source text, e.g. `10` or `'linear'`. */
  default?: string;
  annotation?: string;
}

/** What a function needs from the cells it came from: shown to the user before a deploy. */
export interface CapturedFunction {
  function: string;
  /** Index of the code cell (among code cells) defining it. */
  cell: number;
  parameters: CapturedParameter[];
  isAsync: boolean;
  imports: { cell: number; source: string; names: string[] }[];
  definitions: { cell: number; name: string; kind: 'function' | 'class' | 'variable'; source: string }[];
  /** Names the function reads that no cell defines (a builtin of a library, or a mistake). */
  missing: string[];
  /** Cells that are not Python even after IPython syntax is blanked, with the parser's message. */
  skippedCells: { cell: number; error: string }[];
  /** The module a replica imports: the imports, then the definitions, then the function. */
  source: string;
}

/** Runs a Python script on a JSON input and returns its stdout (inside a sandbox). */
export type PythonRunner = (script: string, input: string) => Promise<string>;

const MAX_INPUT_BYTES = 4 * 1024 * 1024;

/**
 * Finds the imports and top-level definitions `functionName` uses in `cells` (code, in notebook order)
 * with Python's own `ast`, run by `run` (a sandbox): the code is parsed, never executed.
 */
export async function captureFunction(
  run: PythonRunner,
  cells: readonly string[],
  functionName: string,
): Promise<CapturedFunction> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(functionName))
    throw new DomainError('VALIDATION_FAILED', `${JSON.stringify(functionName)} is not a Python name`);
  const input = JSON.stringify({ cells, function: functionName });
  if (Buffer.byteLength(input) > MAX_INPUT_BYTES)
    throw new DomainError('PAYLOAD_TOO_LARGE', 'The code to analyse is over 4 MiB');
  const output = await run(CAPTURE_SCRIPT, input);
  let parsed: ({ ok: true } & CapturedFunction) | { ok: false; error: string };
  try {
    parsed = JSON.parse(output);
  } catch {
    throw new DomainError('INTERNAL', `Dependency capture printed no result: ${output.slice(0, 200)}`);
  }
  if (!parsed.ok) throw new DomainError('VALIDATION_FAILED', parsed.error);
  const { ok: _ok, ...captured } = parsed;
  return captured;
}

/** Options of the runsc-backed runner: a short-lived gVisor sandbox with no network per call. */
export interface RunscPythonOptions {
  runscPath?: string;
  /** runsc's state root for these throwaway sandboxes. */
  rootDir: string;
  /** The interpreter inside the sandbox (the host's Debian Python, seen read-only through gVisor). */
  python?: string;
  timeoutMs?: number;
}

/** A `PythonRunner` that runs each script in `runsc --network=none do`, killed after `timeoutMs`. */
export function runscPython(options: RunscPythonOptions): PythonRunner {
  const runsc = options.runscPath ?? 'runsc';
  const python = options.python ?? '/usr/bin/python3';
  const timeoutMs = options.timeoutMs ?? 30_000;
  return async (script, input) => {
    await mkdir(options.rootDir, { recursive: true });
    const args = ['--network=none', '--root', options.rootDir, 'do', python, '-I', '-S', '-c', script];
    return new Promise((resolve, reject) => {
      const child = spawn(runsc, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let size = 0;
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.stdout.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > 16 * 1024 * 1024) child.kill('SIGKILL');
        else out.push(chunk);
      });
      child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
      child.on('error', (error) =>
        reject(new DomainError('SANDBOX_FAILED', `Could not start the analysis sandbox: ${error.message}`)),
      );
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) return resolve(Buffer.concat(out).toString('utf8'));
        const why = signal ? `stopped (${signal}, over ${timeoutMs} ms or 16 MiB)` : `exited with ${code}`;
        reject(
          new DomainError(
            'SANDBOX_FAILED',
            `Dependency capture ${why}: ${Buffer.concat(err).toString('utf8').slice(-500)}`,
          ),
        );
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    });
  };
}
