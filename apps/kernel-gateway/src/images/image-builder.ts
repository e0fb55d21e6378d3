import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DomainError } from '@kiln/core';
import { type ImageSpec, imageKey, isEmptySpec } from '@kiln/images';
import type { ImageBuildView } from '@kiln/kernel-protocol/client';
import { BuildLog } from './build-log.ts';

const BUILD_SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '../../image/build-layer.sh');

export interface ImageBuilderOptions {
  /** The base image (scripts/build-sandbox-image.sh); its directory name is its id. */
  baseImageDir: string;
  /** Where built images live; on the base image's file system, so unchanged files are hard links. */
  imagesDir: string;
  /** The operator's Python package index (a PEP 503 simple index); required for Python packages. */
  pipIndexUrl?: string;
  /** A build still running after this long is killed and fails (default 20 minutes). */
  timeoutMs?: number;
  /** Build output kept per build before only its tail is (default 1 MiB). */
  maxLogBytes?: number;
  /** Builds at once; more wait (default 1). */
  concurrency?: number;
  /** Where kernels' snapshots of each workspace image live (`<dir>/<key>`), removed with the image. */
  imageSnapshotsDir?: string;
  /** `prune` leaves an image alone this long after it was last built, asked for or started (default 10 min). */
  pruneGraceMs?: number;
}

/** What `prune` did: the images it removed, and those it kept because a kernel runs on them. */
export interface PruneResult {
  removed: string[];
  inUse: string[];
}

const KEY = /^[0-9a-f]{16}$/;

/** What a page shows of a build: its state, the log from an offset, and on failure why. */
export type BuildView = ImageBuildView;
type BuildState = ImageBuildView['state'];

interface Build {
  key: string;
  state: BuildState;
  log: BuildLog;
  error?: string;
  sizeBytes?: number;
  startedAt?: Date;
  finishedAt?: Date;
  done: Promise<void>;
}

/** Builds workspace images on this host and finds them again by content hash. */
export function createImageBuilder(options: ImageBuilderOptions) {
  const baseImageDir = resolve(options.baseImageDir);
  const imagesDir = resolve(options.imagesDir);
  const baseImageId = basename(baseImageDir);
  const timeoutMs = options.timeoutMs ?? 20 * 60_000;
  const maxLogBytes = options.maxLogBytes ?? 1024 * 1024;
  const builds = new Map<string, Build>();
  /** When each image was last built, asked for or started from: `prune` leaves recent ones alone. */
  const touched = new Map<string, number>();
  const touch = (key: string) => touched.set(key, Date.now());
  /** Builds the last prune would have removed but for the kernels running on them. */
  const deferred = new Set<string>();
  let running = 0;
  const waiting: (() => void)[] = [];
  /**
   * One step at a time per key: a prune removing a build and a build or start asking for the same key
   * (a new image with an old image's packages) never interleave, so a build is never reported ready, or
   * started from, while a prune deletes it, and a prune never deletes the metadata of a build begun meanwhile.
   */
  const keyLocks = new Map<string, Promise<unknown>>();
  function exclusive<T>(key: string, step: () => Promise<T>): Promise<T> {
    const previous = keyLocks.get(key) ?? Promise.resolve();
    const next = previous.then(step, step);
    const settled = next.catch(() => undefined);
    keyLocks.set(key, settled);
    void settled.then(() => {
      if (keyLocks.get(key) === settled) keyLocks.delete(key);
    });
    return next;
  }

  // Half-built images of a process that died: their mounts went with its namespace, the files stay.
  if (existsSync(imagesDir)) {
    for (const entry of readdirSync(imagesDir)) {
      if (/\.(building|ready)$/.test(entry)) rmSync(join(imagesDir, entry), { recursive: true, force: true });
    }
  }

  const keyOf = (spec: ImageSpec) => imageKey({ baseImageId, spec, pipIndexUrl: options.pipIndexUrl });
  const dirOf = (key: string) => join(imagesDir, key);
  const metaOf = (key: string) => join(imagesDir, `${key}.json`);

  async function slot(): Promise<() => void> {
    if (running >= (options.concurrency ?? 1)) await new Promise<void>((wake) => waiting.push(wake));
    running++;
    return () => {
      running--;
      waiting.shift()?.();
    };
  }

  function run(build: Build, spec: ImageSpec): Promise<void> {
    return new Promise((done) => {
      const args = [baseImageDir, dirOf(build.key)];
      if (spec.debian.length > 0) args.push('--debian', ...spec.debian);
      if (spec.python.length > 0) args.push('--python', ...spec.python);
      const child = spawn('bash', [BUILD_SCRIPT, ...args], {
        // Only what the build needs: never the gateway's own secrets.
        // The cast keeps this compiling where Next's types make NODE_ENV a required key.
        env: {
          PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
          ...(options.pipIndexUrl ? { KILN_PIP_INDEX_URL: options.pipIndexUrl } : {}),
        } as unknown as NodeJS.ProcessEnv,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const timer = setTimeout(() => {
        build.log.append(`\nERROR: the build ran past its limit of ${Math.round(timeoutMs / 1000)} s\n`);
        try {
          process.kill(-(child.pid ?? 0), 'SIGKILL');
        } catch {}
      }, timeoutMs);
      child.stdout.setEncoding('utf8').on('data', (text: string) => build.log.append(text));
      child.stderr.setEncoding('utf8').on('data', (text: string) => build.log.append(text));
      child.on('error', (error) => build.log.append(`\nERROR: ${error.message}\n`));
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code !== 0) {
          build.log.append(`\nERROR: the build exited with ${code ?? signal}\n`);
          rmSync(`${dirOf(build.key)}.building`, { recursive: true, force: true });
        }
        done();
      });
    });
  }

  async function addedBytes(key: string): Promise<number> {
    // du counts a hard-linked file once, under the first directory named: what remains is the image's own.
    const output = await new Promise<string>((resolveOutput) => {
      const child = spawn('du', ['-s', '--bytes', baseImageDir, dirOf(key)], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      let text = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        text += chunk;
      });
      child.on('close', () => resolveOutput(text));
    });
    return Number(output.trim().split('\n')[1]?.split(/\s+/)[0] ?? 0);
  }

  function begin(spec: ImageSpec, key: string): Build {
    const build: Build = { key, state: 'queued', log: new BuildLog(maxLogBytes), done: Promise.resolve() };
    builds.set(key, build);
    build.done = (async () => {
      const release = await slot();
      try {
        build.state = 'building';
        build.startedAt = new Date();
        await mkdir(imagesDir, { recursive: true });
        await run(build, spec);
        build.finishedAt = new Date();
        if (existsSync(dirOf(key))) {
          build.sizeBytes = await addedBytes(key);
          await writeFile(
            metaOf(key),
            JSON.stringify({ spec, sizeBytes: build.sizeBytes, builtAt: build.finishedAt }),
          );
          build.state = 'ready';
        } else {
          build.error = build.log.errorSummary();
          build.state = 'failed';
        }
      } finally {
        release();
      }
    })();
    return build;
  }

  async function readyView(key: string): Promise<BuildView> {
    const meta = await readFile(metaOf(key), 'utf8')
      .then((text) => JSON.parse(text) as { sizeBytes?: number; builtAt?: string })
      .catch(() => ({}) as { sizeBytes?: number; builtAt?: string });
    return { key, state: 'ready', log: '', next: 0, sizeBytes: meta.sizeBytes, finishedAt: meta.builtAt };
  }

  const builder = {
    /** The content hash a spec builds under on this gateway (base image, packages, index). */
    keyOf,
    baseImageId,
    /** Starts building `spec` unless it is built or building; a failed build starts again. */
    build(spec: ImageSpec): Promise<BuildView> {
      const key = keyOf(spec);
      // Touched before waiting: a prune that has not yet looked at this key now leaves it alone.
      touch(key);
      return exclusive(key, async () => {
        const known = builds.get(key);
        if (isEmptySpec(spec) || (existsSync(dirOf(key)) && known?.state !== 'building')) {
          return known?.state === 'ready' ? view(known, 0) : readyView(key);
        }
        if (known && known.state !== 'failed') return view(known, 0);
        return view(begin(spec, key), 0);
      });
    },
    /** A build's state and its log from `offset`. */
    get(key: string, offset = 0): Promise<BuildView> {
      return exclusive(key, async () => {
        const known = builds.get(key);
        if (known) return view(known, offset);
        if (existsSync(dirOf(key))) return readyView(key);
        throw new DomainError('NOT_FOUND', `No build ${key} on this gateway`);
      });
    },
    /** The root file system for `spec`, built first when missing (a kernel start waits for it). */
    async ensure(spec: ImageSpec | undefined): Promise<string> {
      if (!spec || isEmptySpec(spec)) return baseImageDir;
      const key = keyOf(spec);
      touch(key);
      const build = await exclusive(key, async () => {
        const known = builds.get(key);
        if ((!known || known.state === 'ready') && existsSync(dirOf(key))) return undefined;
        return !known || known.state === 'failed' ? begin(spec, key) : known;
      });
      if (!build) return dirOf(key);
      await build.done;
      if (build.state !== 'ready')
        throw new DomainError('SANDBOX_FAILED', `The kernel's image failed to build: ${build.error}`);
      return dirOf(key);
    },
    /**
     * Deletes every built image on this host except those in `keep` (what workspace images still name:
     * each one's last good build and the build in progress), those `inUse` (specs of kernels on this
     * gateway, hibernated ones too), builds in progress and images used within the grace period; with
     * each image go its metadata and its kernel snapshots.
     */
    async prune(keep: Iterable<string>, inUse: Iterable<ImageSpec>): Promise<PruneResult> {
      const kept = new Set(keep);
      const entries = existsSync(imagesDir) ? readdirSync(imagesDir) : [];
      deferred.clear();
      return removeUnless(
        entries.filter((entry) => KEY.test(entry) && !kept.has(entry)),
        inUse,
      );
    },
    /**
     * Removes the builds the last prune kept only for their kernels, once none runs on them (the
     * gateway calls it whenever a kernel goes), so they do not wait for the next image change.
     */
    async pruneDeferred(inUse: Iterable<ImageSpec>): Promise<PruneResult> {
      if (deferred.size === 0) return { removed: [], inUse: [] };
      return removeUnless([...deferred], inUse);
    },
  };

  return builder;

  async function removeUnless(keys: string[], inUse: Iterable<ImageSpec>): Promise<PruneResult> {
    const used = new Set([...inUse].filter((spec) => !isEmptySpec(spec)).map(keyOf));
    const grace = options.pruneGraceMs ?? 10 * 60_000;
    const result: PruneResult = { removed: [], inUse: [] };
    for (const key of keys) {
      await exclusive(key, async () => {
        if (used.has(key)) {
          result.inUse.push(key);
          deferred.add(key);
          return;
        }
        const state = builds.get(key)?.state;
        if (state === 'queued' || state === 'building') return;
        const lastTouched = touched.get(key);
        if (Date.now() - (lastTouched ?? 0) < grace) return;
        await rm(dirOf(key), { recursive: true, force: true });
        await rm(metaOf(key), { force: true });
        if (options.imageSnapshotsDir)
          await rm(join(options.imageSnapshotsDir, key), { recursive: true, force: true });
        builds.delete(key);
        // A build or start that asked for the key meanwhile waits for this removal: its touch stays.
        if (touched.get(key) === lastTouched) touched.delete(key);
        deferred.delete(key);
        result.removed.push(key);
      });
    }
    return result;
  }
}

function view(build: Build, offset: number): BuildView {
  const final = build.state === 'ready' || build.state === 'failed';
  const { text, next } = build.log.read(offset, final);
  return {
    key: build.key,
    state: build.state,
    log: text,
    next,
    ...(build.error ? { error: build.error } : {}),
    ...(build.sizeBytes !== undefined ? { sizeBytes: build.sizeBytes } : {}),
    ...(build.startedAt ? { startedAt: build.startedAt.toISOString() } : {}),
    ...(build.finishedAt ? { finishedAt: build.finishedAt.toISOString() } : {}),
  };
}

export type ImageBuilder = ReturnType<typeof createImageBuilder>;
