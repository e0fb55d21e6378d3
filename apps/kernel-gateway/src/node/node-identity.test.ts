import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadEnv } from '../env.ts';
import { lastingNodeId } from './node-identity.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('the node id', () => {
  it('stays the one of the first start for a state dir, whatever the port or host later', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'kiln-node-id-'));
    dirs.push(stateDir);
    const env = loadEnv({ KILN_GATEWAY_TOKEN: 'x'.repeat(32), KILN_STATE_DIR: stateDir });
    const first = await lastingNodeId(env, 8888);
    expect(first).toBe(`${hostname().replace(/[^A-Za-z0-9._:-]/g, '-')}-8888`);
    expect((await readFile(join(stateDir, 'node-id'), 'utf8')).trim()).toBe(first);
    // Restarted on another port: still the node that holds this disk's volumes.
    expect(await lastingNodeId(env, 9999)).toBe(first);
    // An operator's KILN_NODE_ID wins.
    const named = loadEnv({
      KILN_GATEWAY_TOKEN: 'x'.repeat(32),
      KILN_STATE_DIR: stateDir,
      KILN_NODE_ID: 'gpu-1',
    });
    expect(await lastingNodeId(named, 9999)).toBe('gpu-1');
  });
});
