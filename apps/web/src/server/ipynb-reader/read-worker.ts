import { parentPort } from 'node:worker_threads';
import { isDomainError } from '@kiln/core';
import { readIpynb } from '@kiln/notebook/ipynb-reader';

// One import at a time in this thread; the pool sends the next file once this one is answered.
parentPort?.on('message', (job: { id: number; text: string }) => {
  try {
    const read = readIpynb(job.text);
    parentPort?.postMessage({ id: job.id, read }, [read.update.buffer as ArrayBuffer]);
  } catch (error) {
    const failure = isDomainError(error)
      ? { code: error.code, message: error.message, details: error.details }
      : { code: 'VALIDATION_FAILED', message: 'The file could not be read as a notebook.' };
    parentPort?.postMessage({ id: job.id, failure });
  }
});

// Loaded: the pool starts a file's clock only now, so thread start-up never counts against a file.
parentPort?.postMessage({ ready: true });
