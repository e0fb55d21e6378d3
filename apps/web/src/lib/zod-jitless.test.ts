import { describe, expect, it } from 'vitest';
import { makeZodJitless } from './zod-jitless.ts';

describe('makeZodJitless', () => {
  it('is the setting zod reads when it loads afterwards', async () => {
    makeZodJitless();
    const { config, z } = await import('zod');
    expect(config().jitless).toBe(true);
    // A schema built now parses without the compiled path (which would need `new Function`).
    const original = globalThis.Function;
    let compiled = 0;
    globalThis.Function = new Proxy(original, {
      construct(target, args) {
        compiled++;
        return Reflect.construct(target, args);
      },
      apply(target, self, args) {
        compiled++;
        return Reflect.apply(target, self, args);
      },
    });
    try {
      const schema = z.object({ name: z.string().trim().min(1) });
      expect(schema.parse({ name: ' a ' })).toEqual({ name: 'a' });
      expect(schema.parse({ name: 'b' })).toEqual({ name: 'b' });
    } finally {
      globalThis.Function = original;
    }
    expect(compiled).toBe(0);
  });
});
