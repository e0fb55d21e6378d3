import { Worker } from 'node:worker_threads';
import { DomainError, type ErrorCode } from '@kiln/core';
import type { ReadIpynb } from '@kiln/notebook/ipynb-reader';

/** Bounds of the threads that read uploaded .ipynb files. */
export interface IpynbReaderOptions {
  /** Threads reading files at once (default 2); more files wait in line. */
  workers?: number;
  /** Files that may wait for a thread (default 8); past that a read is refused as RATE_LIMITED. */
  maxWaiting?: number;
  /** A file still being read after this long is given up on, its thread stopped (default 30 s). */
  timeoutMs?: number;
  /** Heap of one reading thread in MiB (default 768); a file needing more fails alone. */
  maxMemoryMiB?: number;
}

/** Reads .ipynb files off the calling thread, so a hostile file stalls nobody else's requests. */
export interface IpynbReader {
  read(text: string): Promise<ReadIpynb>;
  close(): Promise<void>;
}

interface Job {
  id: number;
  text: string;
  resolve(read: ReadIpynb): void;
  reject(error: unknown): void;
}

interface Slot {
  worker: Worker;
  /** The thread has loaded its code; a file's time limit starts only once it has. */
  ready: boolean;
  job: Job | null;
  timer?: NodeJS.Timeout;
}

// An .mjs entry that registers tsx in the thread first: workers do not inherit the parent's loader.
const WORKER_URL = new URL('./read-worker-entry.mjs', import.meta.url);

/** Creates the pool of threads that parse, validate and convert uploaded notebooks. */
export function createIpynbReader(options: IpynbReaderOptions = {}): IpynbReader {
  const size = options.workers ?? 2;
  const maxWaiting = options.maxWaiting ?? 8;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxMemoryMiB = options.maxMemoryMiB ?? 768;
  const slots: Slot[] = [];
  const waiting: Job[] = [];
  let nextId = 0;
  let closed = false;

  const fail = (slot: Slot, code: ErrorCode, message: string) => {
    const job = slot.job;
    slots.splice(slots.indexOf(slot), 1);
    clearTimeout(slot.timer);
    void slot.worker.terminate();
    job?.reject(new DomainError(code, message));
    pump();
  };

  const spawn = (): Slot => {
    const worker = new Worker(WORKER_URL, {
      resourceLimits: { maxOldGenerationSizeMb: maxMemoryMiB, maxYoungGenerationSizeMb: 64 },
    });
    worker.unref();
    const slot: Slot = { worker, ready: false, job: null };
    worker.on(
      'message',
      (reply: {
        ready?: true;
        id: number;
        read?: ReadIpynb;
        failure?: { code: ErrorCode; message: string; details?: Record<string, unknown> };
      }) => {
        if (reply.ready) {
          slot.ready = true;
          pump();
          return;
        }
        const job = slot.job;
        if (!job || job.id !== reply.id) return;
        clearTimeout(slot.timer);
        slot.job = null;
        if (reply.read) job.resolve(reply.read);
        else
          job.reject(
            new DomainError(
              reply.failure?.code ?? 'VALIDATION_FAILED',
              reply.failure?.message ?? 'The file could not be read.',
              reply.failure?.details,
            ),
          );
        pump();
      },
    );
    worker.on('error', (error: Error & { code?: string }) => {
      if (error.code === 'ERR_WORKER_OUT_OF_MEMORY') {
        fail(
          slot,
          'PAYLOAD_TOO_LARGE',
          `Reading this file needs more than ${maxMemoryMiB} MiB of memory; it cannot be imported.`,
        );
      } else fail(slot, 'INTERNAL', `Reading the file failed: ${error.message}`);
    });
    worker.on('exit', () => {
      if (slots.includes(slot)) fail(slot, 'INTERNAL', 'The thread reading the file stopped.');
    });
    slots.push(slot);
    return slot;
  };

  const pump = () => {
    while (!closed && waiting.length > 0) {
      const slot = slots.find((s) => s.ready && s.job === null);
      if (!slot) {
        // Threads start on demand; one still starting will pump again once it says it is ready.
        if (slots.length < Math.min(size, waiting.length + slots.filter((s) => s.job).length)) spawn();
        return;
      }
      const job = waiting.shift() as Job;
      slot.job = job;
      slot.timer = setTimeout(
        () =>
          fail(
            slot,
            'PAYLOAD_TOO_LARGE',
            `Reading this file took longer than ${timeoutMs / 1000} s; it was stopped.`,
          ),
        timeoutMs,
      );
      slot.worker.postMessage({ id: job.id, text: job.text });
    }
  };

  return {
    read(text) {
      if (closed) return Promise.reject(new Error('the .ipynb reader is closed'));
      if (waiting.length + slots.filter((slot) => slot.job).length >= size + maxWaiting) {
        return Promise.reject(
          new DomainError(
            'RATE_LIMITED',
            'The server is busy importing other notebooks. Try again in a few seconds.',
          ),
        );
      }
      return new Promise<ReadIpynb>((resolve, reject) => {
        waiting.push({ id: nextId++, text, resolve, reject });
        pump();
      });
    },
    async close() {
      closed = true;
      for (const job of waiting.splice(0)) job.reject(new Error('the .ipynb reader is closed'));
      await Promise.all(
        slots.splice(0).map((slot) => {
          clearTimeout(slot.timer);
          slot.job?.reject(new Error('the .ipynb reader is closed'));
          return slot.worker.terminate();
        }),
      );
    },
  };
}
