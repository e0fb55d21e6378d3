/**
 * Where one notebook open spends its time, for finding what to cut (bench/notebook-open/run.ts says
 * how fast it is against the peer; this says why). Per fresh load of the 20-cell (or 500-cell)
 * notebook: the page document's timing and size, first paint, first code, the first editor, the
 * main thread's long tasks, and when the largest script (the editor) was requested and arrived.
 *   npx tsx bench/notebook-open/probe.ts [20|500]
 * PROBE_RUNS (default 3) sets the loads; PROBE_TRACE=file.json also writes a Chromium trace of the
 * first one (open it in the browser's performance panel).
 */
import type { Browser } from 'playwright-core';
import { startApp } from '../notebook/app.ts';
import { importNotebook, launch, type Session, signUp } from '../notebook/browser.ts';
import { LARGE, makeNotebook, SMALL } from '../notebook/make-notebook.ts';
import { measureOpen, VIEWPORT } from './measure.ts';

interface Probe {
  longTasks: [number, number][];
  firstCode?: number;
  editor?: number;
}

/** Runs in the page before its scripts. */
function installProbe(): void {
  const probe: Probe = { longTasks: [] };
  (window as unknown as { __probe: Probe }).__probe = probe;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      probe.longTasks.push([Math.round(e.startTime), Math.round(e.duration)]);
  }).observe({ type: 'longtask', buffered: true });
  const check = () => {
    const first = document.querySelector('section.cell[aria-label="Cell 1"]');
    const keyword = first?.querySelector('.tok-keyword, .view-lines span[class*="mtk"]:not(.mtk1)');
    if (probe.firstCode === undefined && keyword && keyword.getBoundingClientRect().height > 0)
      probe.firstCode = performance.now();
    if (probe.editor === undefined && first?.querySelector('.view-lines')) probe.editor = performance.now();
    if (probe.editor === undefined) requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** What kind of work a sampled frame is, from its script's URL (chunks are named by hash only). */
function bucket(frame: ProfileNode['callFrame'], monacoChunk: string | undefined): string {
  if (frame.url === '') return frame.functionName.startsWith('(') ? frame.functionName : '(browser)';
  if (monacoChunk && frame.url.endsWith(monacoChunk)) return 'monaco chunk';
  return frame.url.includes('/_next/') ? 'other app chunks' : frame.url;
}

/**
 * Main-thread CPU time from navigation until `until` ms, by kind of work (V8's sampling profiler,
 * self time): which script ran, garbage collection, and the browser's own (style, layout, parse) as
 * `(program)`. Also the functions with the most self time.
 */
function breakdown(profile: Profile, navigationStart: number, until: number, monacoChunk?: string) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const byBucket = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if ((t - navigationStart) / 1000 > until) break;
    const next = profile.timeDeltas[i + 1] ?? 0;
    const node = byId.get(profile.samples[i] as number);
    if (!node || node.callFrame.functionName === '(idle)') continue;
    const kind = bucket(node.callFrame, monacoChunk);
    byBucket.set(kind, (byBucket.get(kind) ?? 0) + next / 1000);
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    const where = url ? ` ${url.split('/').pop()}:${lineNumber + 1}:${columnNumber + 1}` : '';
    const name = `${functionName || '(anonymous)'} (${kind}${where})`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + next / 1000);
  }
  const top = (m: Map<string, number>, n: number) =>
    Object.fromEntries(
      [...m.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, n)
        .map(([k, v]) => [k, Math.round(v)]),
    );
  return { cpuMsByKind: top(byBucket, 12), cpuMsTopFunctions: top(byFunction, 12) };
}

async function probeOnce(browser: Browser, url: string, session: Session, trace?: string) {
  const context = await browser.newContext({ storageState: session.storageState, viewport: VIEWPORT });
  try {
    const page = await context.newPage();
    await page.addInitScript('globalThis.__name ??= (f) => f;');
    await page.addInitScript(installProbe);
    if (trace) await browser.startTracing(page, { path: trace, screenshots: true });
    // The app's origin first, so the notebook's navigation stays in the renderer being profiled.
    await page.goto(`${new URL(url).origin}/favicon.ico`);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 1000 });
    await cdp.send('Profiler.start');
    // The profile starts a moment before navigation; the breakdown counts from the profile's start.
    await page.goto(url, { waitUntil: 'commit' });
    await page.waitForFunction(
      () => (window as unknown as { __probe: Probe }).__probe.editor !== undefined,
      undefined,
      { timeout: 180_000 },
    );
    await page.waitForTimeout(1000);
    const { profile } = (await cdp.send('Profiler.stop')) as unknown as { profile: Profile };
    if (trace) await browser.stopTracing();
    const result = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      const probe = (window as unknown as { __probe: Probe }).__probe;
      const scripts = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter(
        (r) => r.initiatorType === 'script',
      );
      const largest = scripts.sort((a, b) => b.decodedBodySize - a.decodedBodySize)[0];
      const before = (t: number | undefined) =>
        probe.longTasks.filter(([start]) => t !== undefined && start < t).reduce((sum, [, d]) => sum + d, 0);
      const round = (v: number | undefined) => (v === undefined ? null : Math.round(v));
      return {
        responseStart: round(nav.responseStart),
        responseEnd: round(nav.responseEnd),
        documentKiB: round(nav.decodedBodySize / 1024),
        firstPaint: round(performance.getEntriesByName('first-contentful-paint')[0]?.startTime),
        firstCode: round(probe.firstCode),
        editor: round(probe.editor),
        longTaskMsBeforeFirstCode: before(probe.firstCode),
        longTaskMsBeforeEditor: before(probe.editor),
        scriptKiB: round(scripts.reduce((sum, r) => sum + r.decodedBodySize, 0) / 1024),
        // The scripts the open fetched before the first editor, largest first: [file, KiB, requested, arrived].
        scriptsBeforeEditor: scripts
          .filter(
            (r) => probe.editor !== undefined && r.startTime < probe.editor && r.decodedBodySize > 20_480,
          )
          .sort((a, b) => b.decodedBodySize - a.decodedBodySize)
          .slice(0, 10)
          .map((r) => [
            r.name.split('/').pop(),
            round(r.decodedBodySize / 1024),
            round(r.startTime),
            round(r.responseEnd),
          ]),
        largestScript: largest && {
          url: largest.name,
          kiB: round(largest.decodedBodySize / 1024),
          requested: round(largest.startTime),
          arrived: round(largest.responseEnd),
        },
      };
    });
    const monacoChunk = result.largestScript?.url.split('/').pop();
    return {
      ...result,
      largestScript: result.largestScript && { ...result.largestScript, url: monacoChunk },
      cpuUntilEditor: breakdown(profile, profile.startTime, result.editor ?? 0, monacoChunk),
    };
  } finally {
    await context.close();
  }
}

const shape = process.argv[2] === '500' ? LARGE : SMALL;
const app = await startApp();
const browser = await launch();
try {
  const session = await signUp(browser, app.baseUrl);
  const url = await importNotebook(browser, app.baseUrl, session, 'probe', makeNotebook(shape).content);
  await measureOpen(browser, 'kiln', url, shape.cells, session.storageState);
  for (let run = 0; run < Number(process.env.PROBE_RUNS ?? 3); run++) {
    const result = await probeOnce(browser, url, session, run === 0 ? process.env.PROBE_TRACE : undefined);
    console.log(JSON.stringify(result));
  }
} finally {
  await browser.close();
  await app.stop();
}
