import { describe, expect, it } from 'vitest';
import { loadEnv } from './env.ts';

describe('loadEnv', () => {
  it('applies Jupyter-like defaults', () => {
    const env = loadEnv({ KILN_GATEWAY_TOKEN: 'x'.repeat(32) });
    expect(env).toMatchObject({
      PORT: 8888,
      HOST: '127.0.0.1',
      KILN_MAX_KERNELS_PER_WORKSPACE: 100,
      KILN_HEARTBEAT_SECONDS: 5,
      KILN_CULL_CONNECTED: false,
      KILN_HIBERNATE_IDLE_SECONDS: 600,
    });
  });

  it('names the missing or bad variable', () => {
    expect(() => loadEnv({})).toThrow(/KILN_GATEWAY_TOKEN: is required/);
    expect(() => loadEnv({ KILN_GATEWAY_TOKEN: 'x'.repeat(32), PORT: 'eighty' })).toThrow(/PORT/);
    expect(() =>
      loadEnv({ KILN_GATEWAY_TOKEN: 'x'.repeat(32), KILN_MAX_KERNELS_PER_WORKSPACE: '0' }),
    ).toThrow(/KILN_MAX_KERNELS_PER_WORKSPACE/);
    expect(() => loadEnv({ KILN_GATEWAY_TOKEN: 'x'.repeat(32), KILN_GPUS: 'T4' })).toThrow(/KILN_GPUS/);
    // Unset maximums and node sizes stay unset (the node's own size applies), never 0.
    const unset = loadEnv({ KILN_GATEWAY_TOKEN: 'x'.repeat(32) });
    expect(unset.KILN_MAX_KERNEL_MEMORY_MIB).toBeUndefined();
    expect(unset.KILN_NODE_MEMORY_MIB).toBeUndefined();
    expect(() => loadEnv({ KILN_GATEWAY_TOKEN: 'x'.repeat(32), DATABASE_URL: 'mysql://x' })).toThrow(
      /DATABASE_URL/,
    );
    expect(() => loadEnv({ KILN_GATEWAY_TOKEN: 'x'.repeat(32), KILN_CULL_CONNECTED: 'maybe' })).toThrow(
      /KILN_CULL_CONNECTED/,
    );
    expect(() => loadEnv({ KILN_GATEWAY_TOKEN: 'x'.repeat(32), KILN_HIBERNATE_IDLE_SECONDS: '-1' })).toThrow(
      /KILN_HIBERNATE_IDLE_SECONDS/,
    );
  });
});

describe('sandbox settings', () => {
  const token = { KILN_GATEWAY_TOKEN: 'x'.repeat(32) };

  it('preloads the data libraries by default, none when empty, and refuses code posing as a list', () => {
    expect(loadEnv(token).KILN_KERNEL_PRELOAD).toEqual(['numpy', 'pandas', 'matplotlib']);
    expect(loadEnv({ ...token, KILN_KERNEL_PRELOAD: '' }).KILN_KERNEL_PRELOAD).toEqual([]);
    expect(() => loadEnv({ ...token, KILN_KERNEL_PRELOAD: "os;__import__('os').system('x')" })).toThrow(
      /KILN_KERNEL_PRELOAD/,
    );
  });

  it('takes a disk quota maximum (0 turns quotas off) and only platforms runsc knows', () => {
    expect(loadEnv(token).KILN_MAX_DISK_MIB).toBe(10_240);
    expect(loadEnv({ ...token, KILN_MAX_DISK_MIB: '0' }).KILN_MAX_DISK_MIB).toBe(0);
    expect(() => loadEnv({ ...token, KILN_MAX_DISK_MIB: '-5' })).toThrow(/KILN_MAX_DISK_MIB/);
    expect(loadEnv({ ...token, KILN_RUNSC_PLATFORM: 'ptrace' }).KILN_RUNSC_PLATFORM).toBe('ptrace');
    expect(() => loadEnv({ ...token, KILN_RUNSC_PLATFORM: 'native' })).toThrow(/KILN_RUNSC_PLATFORM/);
  });

  it('takes a package index for image builds only as an http(s) URL, and bounds builds', () => {
    expect(loadEnv(token).KILN_PIP_INDEX_URL).toBeUndefined();
    expect(
      loadEnv({ ...token, KILN_PIP_INDEX_URL: 'http://127.0.0.1:3141/simple/' }).KILN_PIP_INDEX_URL,
    ).toBe('http://127.0.0.1:3141/simple/');
    expect(() => loadEnv({ ...token, KILN_PIP_INDEX_URL: 'file:///srv/wheels' })).toThrow(
      /KILN_PIP_INDEX_URL/,
    );
    expect(() => loadEnv({ ...token, KILN_PIP_INDEX_URL: '--index-url x' })).toThrow(/KILN_PIP_INDEX_URL/);
    expect(loadEnv(token).KILN_IMAGE_BUILD_TIMEOUT_SECONDS).toBe(1200);
    expect(() => loadEnv({ ...token, KILN_IMAGE_BUILD_TIMEOUT_SECONDS: '0' })).toThrow(
      /KILN_IMAGE_BUILD_TIMEOUT_SECONDS/,
    );
  });
});
