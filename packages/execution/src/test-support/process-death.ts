import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer, connect as netConnect, type Socket } from 'node:net';
import type { DocumentStore } from '@kiln/collab';
import type { KernelStore } from '../types.ts';

/**
 * A TCP proxy on 127.0.0.1 to `targetPort`, standing between a web process under test and the kernel
 * gateway: `cut()` resets every connection (what the gateway sees when the process dies), `kill()`
 * also refuses new ones, `muteClient()` drops what the process sends from now on (its
 * acknowledgements never arrive) while it still receives.
 */
export async function startTcpProxy(targetPort: number) {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  let refusing = false;
  let muted = false;
  const server = createServer((client) => {
    if (refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = netConnect(targetPort, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    client.on('data', (chunk) => {
      if (!muted) upstream.write(chunk);
    });
    upstream.pipe(client);
    const end = () => {
      pairs.delete(pair);
      if (!client.destroyed) client.resetAndDestroy();
      if (!upstream.destroyed) upstream.resetAndDestroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('close', end);
      socket.on('error', end);
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const cut = () => {
    for (const { client, upstream } of [...pairs]) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
    pairs.clear();
  };
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    muteClient() {
      muted = true;
    },
    cut,
    kill() {
      refusing = true;
      cut();
    },
    close: () => {
      refusing = true;
      cut();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The stores as one web process sees them: `hold()` makes its writes wait (a slow database),
 * `release()` lets them through, `kill()` fails them from now on (the process died: nothing it had
 * not stored yet ever will be). Reads and other processes' stores are untouched.
 */
export function processStores(documents: DocumentStore, kernels: KernelStore) {
  let mode: 'open' | 'held' | 'dead' = 'open';
  const waiting: (() => void)[] = [];
  const gate = async () => {
    while (mode === 'held') await new Promise<void>((resolve) => waiting.push(resolve));
    if (mode === 'dead') throw new Error('the web process died');
  };
  const wake = () => {
    for (const resolve of waiting.splice(0)) resolve();
  };
  return {
    documents: {
      load: (name: string) => documents.load(name),
      append: async (...args: Parameters<DocumentStore['append']>) => {
        await gate();
        return documents.append(...args);
      },
      compact: async (...args: Parameters<DocumentStore['compact']>) => {
        await gate();
        return documents.compact(...args);
      },
    } satisfies DocumentStore,
    kernels: {
      save: async (record) => {
        await gate();
        return kernels.save(record);
      },
      remove: async (notebookId) => {
        await gate();
        return kernels.remove(notebookId);
      },
      list: () => kernels.list(),
    } satisfies KernelStore,
    hold() {
      mode = 'held';
    },
    release() {
      mode = 'open';
      wake();
    },
    kill() {
      mode = 'dead';
      wake();
    },
  };
}
