import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface PlacerResult {
  placed: string[];
  refused: number;
  failures: string[];
  latenciesMs: number[];
}

interface Placer {
  child: ChildProcess;
  ready: Promise<void>;
  result: Promise<PlacerResult>;
}

function startPlacer(args: string[]): Placer {
  const script = fileURLToPath(new URL('./placer-process.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.includes('ready\n')) markReady();
  });
  const result = new Promise<PlacerResult>((resolve, reject) => {
    child.once('exit', (code) => {
      const line = stdout.split('\n').find((text) => text.startsWith('{'));
      if (code === 0 && line) resolve(JSON.parse(line) as PlacerResult);
      else reject(new Error(`placer exited with ${code}: ${stderr}`));
    });
  });
  return { child, ready: Promise.race([ready, result.then(() => undefined)]), result };
}

/**
 * Runs separate OS processes that each place containers through their own scheduler and database
 * connections, released at the same moment.
 */
export async function runPlacers(
  processes: number,
  args: (index: number) => string[],
): Promise<PlacerResult[]> {
  const placers = Array.from({ length: processes }, (_, index) => startPlacer(args(index)));
  try {
    await Promise.all(placers.map((placer) => placer.ready));
    for (const placer of placers) placer.child.stdin?.end('go\n');
    return await Promise.all(placers.map((placer) => placer.result));
  } finally {
    for (const placer of placers) if (placer.child.exitCode === null) placer.child.kill('SIGKILL');
  }
}
