/**
 * Turns off zod's compiled fast path before any zod schema is built in the browser: it probes
 * `new Function`, which the page's CSP (no 'unsafe-eval') reports as a violation. zod keeps its
 * settings on `globalThis.__zod_globalConfig` and merges into what is there when it loads, so the
 * setting is made without importing zod, which only the form chunks carry.
 */
export function makeZodJitless(): void {
  const scope = globalThis as { __zod_globalConfig?: Record<string, unknown> };
  scope.__zod_globalConfig ??= {};
  scope.__zod_globalConfig.jitless = true;
}
