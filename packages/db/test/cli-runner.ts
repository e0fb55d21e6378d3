import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

export interface CliRun {
  child: ChildProcess;
  exited: Promise<number | null>;
  /** Resolves with the first match of `pattern` in the output; rejects if the process exits first. */
  line(pattern: RegExp): Promise<RegExpExecArray>;
  output(): string;
}

/** Runs `cli.ts` as its own process, as the start script does (tests only). */
export function runCli(args: string[]): CliRun {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const append = (data: Buffer) => {
    output += data.toString();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return {
    child,
    exited,
    output: () => output,
    async line(pattern) {
      for (;;) {
        const match = pattern.exec(output);
        if (match) return match;
        const code = await Promise.race([
          exited,
          new Promise((done) => setTimeout(() => done('waiting'), 50)),
        ]);
        if (code !== 'waiting' && !pattern.test(output))
          throw new Error(`exited ${code} without ${pattern}:\n${output}`);
      }
    },
  };
}
