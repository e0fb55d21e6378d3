import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { hasFlag, parseRunscFeatures, type RunscFeatures, type RunscProbeOutput } from './runsc-features.ts';

/** Options of the cached runsc probe. */
export interface RunscProbeOptions {
  /** `runsc` (looked up on PATH, the default) or a path to the binary. */
  runscPath?: string;
  /** Where the probe's outputs are kept between gateway starts, e.g. `<KILN_STATE_DIR>/runsc-features.json`. */
  cacheFile?: string;
  /** The platform asked for (KILN_RUNSC_PLATFORM); otherwise the best one runsc offers. */
  platform?: string;
}

/** What the probe found, and what it cost. */
export interface RunscProbe {
  features: RunscFeatures;
  /** The binary the probe ran (PATH resolved). */
  binary: string;
  /** True when the outputs came from the cache file (the binary was unchanged). */
  cached: boolean;
  ms: number;
}

/** What identifies one runsc binary: a package upgrade or a copy over it changes at least one of these. */
interface BinaryKey {
  path: string;
  size: number;
  mtimeMs: number;
  ino: number;
  dev: number;
}

interface CacheFile {
  key: BinaryKey;
  output: RunscProbeOutput;
}

async function findBinary(runscPath: string): Promise<string> {
  if (runscPath.includes('/')) return resolve(runscPath);
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = isAbsolute(dir) ? join(dir, runscPath) : resolve(dir, runscPath);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new Error(`runsc not found at ${runscPath}`);
}

async function binaryKey(path: string): Promise<BinaryKey> {
  try {
    const info = await stat(path);
    return { path, size: info.size, mtimeMs: info.mtimeMs, ino: info.ino, dev: info.dev };
  } catch {
    throw new Error(`runsc not found at ${path}`);
  }
}

const sameKey = (a: BinaryKey, b: BinaryKey) =>
  a.path === b.path && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino && a.dev === b.dev;

async function readCache(file: string, key: BinaryKey): Promise<RunscProbeOutput | undefined> {
  try {
    const cache = JSON.parse(await readFile(file, 'utf8')) as Partial<CacheFile>;
    const output = cache.output;
    if (!cache.key || !sameKey(cache.key, key) || typeof output?.flags !== 'string') return undefined;
    return output;
  } catch {
    // Missing or unreadable: probe again and write a fresh one.
    return undefined;
  }
}

/** Written whole or not at all (rename), so a gateway killed mid-write leaves no half a cache. */
async function writeCache(file: string, cache: CacheFile): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(cache));
  await rename(temporary, file);
}

/** Runs one runsc help command; runsc prints help and flags on stderr and some releases exit non-zero. */
function runsc(binary: string, args: string[]): Promise<string> {
  return new Promise((done, fail) => {
    execFile(binary, args, { encoding: 'utf8', timeout: 10_000 }, (error, stdout, stderr) => {
      if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT')
        fail(new Error(`runsc not found at ${binary}`));
      else done(`${stdout ?? ''}${stderr ?? ''}`);
    });
  });
}

/** runsc's version, flags and help texts (and nvproxy's drivers where it has nvproxy), asked at once. */
async function probeOutput(binary: string): Promise<RunscProbeOutput> {
  const drivers = async (flags: string) =>
    hasFlag(flags, 'nvproxy')
      ? { nvproxyDrivers: await runsc(binary, ['nvproxy', 'list-supported-drivers']) }
      : {};
  const [version, [flags, nvproxy], help, checkpointHelp, restoreHelp] = await Promise.all([
    runsc(binary, ['--version']),
    runsc(binary, ['flags']).then(async (flags) => [flags, await drivers(flags)] as const),
    runsc(binary, ['help']),
    runsc(binary, ['help', 'checkpoint']),
    runsc(binary, ['help', 'restore']),
  ]);
  return { version, flags, help, checkpointHelp, restoreHelp, ...nvproxy };
}

/**
 * What the installed runsc can do, without blocking the gateway's event loop: asking runsc takes
 * seconds on a loaded machine (six processes of a 50 MB Go binary), so the answers are kept in
 * `cacheFile` under the binary's path, size, mtime and inode, and asked again only when one changes.
 * The platform choice is made on every call, so KILN_RUNSC_PLATFORM applies with a cached probe too.
 */
export async function probeRunsc(options: RunscProbeOptions = {}): Promise<RunscProbe> {
  const started = performance.now();
  const binary = await findBinary(options.runscPath ?? 'runsc');
  const key = await binaryKey(binary);
  const cached = options.cacheFile ? await readCache(options.cacheFile, key) : undefined;
  const output = cached ?? (await probeOutput(binary));
  const features = parseRunscFeatures(output, options.platform);
  if (!cached && options.cacheFile) {
    // Only a binary that is the same after the probe as before it is worth remembering.
    const after = await binaryKey(binary);
    if (sameKey(key, after))
      await writeCache(options.cacheFile, { key, output }).catch((error: unknown) =>
        console.error(`[kernel-gateway] could not keep runsc's features in ${options.cacheFile}:`, error),
      );
  }
  return { features, binary, cached: cached !== undefined, ms: performance.now() - started };
}
