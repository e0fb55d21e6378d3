import { describe, expect, it } from 'vitest';
import { runCli } from '../test/cli-runner.ts';

describe('kiln-db CLI', () => {
  it('explains what it needs when called wrongly', async () => {
    const missing = runCli(['migrate']);
    expect(await missing.exited).toBe(2);
    expect(missing.output()).toContain('migrate needs --url');
    expect(missing.output()).toContain('Usage:');
  });

  it('generate skips work when the client is newer than the schema', async () => {
    const generate = runCli(['generate']);
    expect(await generate.exited).toBe(0);
    expect(generate.output()).toContain('kiln-db: Prisma client is up to date');
  });
});
