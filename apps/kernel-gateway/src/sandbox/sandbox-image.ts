import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const BUILD_SCRIPT = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../../../scripts/build-sandbox-image.sh',
);

/**
 * Returns the kernel root filesystem, building it with scripts/build-sandbox-image.sh when missing
 * (a few minutes the first time on a machine, instant afterwards). `cacheDir` overrides
 * /var/cache/kiln/images.
 */
export function ensureSandboxImage(options: { cacheDir?: string } = {}): Promise<string> {
  return new Promise((resolvePath, reject) => {
    execFile(
      'bash',
      [BUILD_SCRIPT],
      {
        // Only PATH (and the cache override) reach the build: no secrets of the caller's environment.
        // The cast keeps this compiling where Next's types make NODE_ENV a required key.
        env: {
          PATH: process.env.PATH,
          ...(options.cacheDir ? { KILN_IMAGE_CACHE: options.cacheDir } : {}),
        } as unknown as NodeJS.ProcessEnv,
        maxBuffer: 64 * 1024 * 1024,
        timeout: 30 * 60_000,
      },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`building the sandbox image failed: ${String(stderr).slice(-2000)}`));
        else resolvePath(String(stdout).trim().split('\n').pop() ?? '');
      },
    );
  });
}
