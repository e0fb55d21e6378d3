import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createCollabServer } from '@kiln/collab';
import { createPostgresStore } from '@kiln/collab/postgres';
import type { Db } from '@kiln/db';
import { createExecutionService, type ExecutionService } from '@kiln/execution';
import { createGateway } from '@kiln/kernel-gateway';
import {
  createImageBuilder,
  createRunscDriver,
  ensureSandboxImage,
  probeRunsc,
} from '@kiln/kernel-gateway/sandbox';
import { createGatewayClient, type GatewayClient } from '@kiln/kernel-protocol/client';
import type { NotebookDocuments } from '../src/services.ts';

/**
 * Real runsc kernels behind a real kernel gateway on port 0, notebook documents stored in Postgres,
 * and the execution service over both: what a web process runs code with.
 */
export async function startKernels(
  db: Db,
  options: { pipIndexUrl?: string; images?: boolean } = {},
): Promise<{
  execution: ExecutionService;
  documents: NotebookDocuments;
  /** With `images`: the gateway's image builds, for `createImageStore`. */
  imageGateway(workspaceId: string): GatewayClient;
  close(): Promise<void>;
}> {
  const token = `api-int-${randomBytes(8).toString('hex')}`;
  const imageDir = await ensureSandboxImage();
  // Beside the base image, on its disk, so unchanged files are hard links (as in production).
  const imagesDir = options.images ? mkdtempSync(join(dirname(imageDir), '.test-images-')) : null;
  const images = imagesDir
    ? createImageBuilder({ baseImageDir: imageDir, imagesDir, pipIndexUrl: options.pipIndexUrl })
    : undefined;
  const driver = createRunscDriver({
    // Shared by runs on one machine, so the kernel snapshot is built once.
    stateDir: join(tmpdir(), 'kiln-api-kernels-test-state'),
    imageDir,
    warmPoolSize: 1,
    images,
    features: (await probeRunsc()).features,
  });
  await driver.prepare();
  const gateway = createGateway({ driver, token, kernelInfoTimeoutMs: 60_000, images });
  const { url } = await gateway.listen(0);
  const collab = createCollabServer({
    store: createPostgresStore(db),
    unloadDelayMs: 0,
    onError: (payload) => console.error('collab', payload.error),
    onAuthenticate: () => ({ userId: 'tester', name: 'Tester', readOnly: false }),
  });
  const documents = { open: (notebookId: string) => collab.openDirectConnection(notebookId) };
  const execution = createExecutionService({
    gateway: (workspaceId) => createGatewayClient({ baseUrl: url, token, workspaceId }),
    openDocument: documents.open,
  });
  return {
    execution,
    documents,
    imageGateway: (workspaceId) => createGatewayClient({ baseUrl: url, token, workspaceId }),
    async close() {
      await execution.dispose();
      await collab.close();
      await gateway.close();
      await driver.close();
      if (imagesDir) await rm(imagesDir, { recursive: true, force: true });
    },
  };
}

/** An .ipynb file of code cells `c0`, `c1`, ... with these sources, for `notebook.importIpynb`. */
export function codeNotebook(cells: string[]): string {
  return JSON.stringify({
    cells: cells.map((source, i) => ({
      cell_type: 'code',
      execution_count: null,
      id: `c${i}`,
      metadata: {},
      outputs: [],
      source,
    })),
    metadata: {},
    nbformat: 4,
    nbformat_minor: 5,
  });
}
