// One fresh page load of a notebook in Kiln or in Jupyter Notebook, measured the same way in both:
// when the first code cell shows highlighted code on screen, when the page is fully interactive,
// the layout shift while it loads, then a wheel scroll from top to bottom recording every frame.
import type { Browser, Page } from 'playwright-core';
import type { Session } from '../notebook/browser.ts';

/** Which app a page belongs to; it decides only the selectors below. */
export type AppKind = 'kiln' | 'jupyter';

export const VIEWPORT = { width: 1280, height: 800 };
/** Pixels per wheel event; a brisk mouse-wheel scroll (about three notches). */
export const WHEEL_STEP = 300;
const LOAD_TIMEOUT_MS = Number(process.env.BENCH_LOAD_TIMEOUT_MS ?? 300_000);
const MAX_WHEEL_STEPS = 2000;
const SCROLL_TIMEOUT_MS = 180_000;
/** After "interactive", how long late work (editors mounting, images decoding) may still shift layout. */
const SETTLE_MS = 1000;

/** The element that scrolls the cells: Kiln's IDE content area, Jupyter's `#site`. */
const SCROLLER: Record<AppKind, string> = { kiln: '#ide-content', jupyter: '#site' };

/** Times are ms since navigation start. */
export interface OpenSample {
  /** A keyword of the first code cell is on screen, coloured as code (Kiln: its static or Monaco
   * tokens; Jupyter: CodeMirror's `cm-keyword`). */
  firstCode: number;
  /** The whole notebook is in the page and the first code cell has its editor (Kiln: every cell slot
   * and Cell 1's Monaco; Jupyter: `Jupyter.notebook._fully_loaded` and every cell element). */
  interactive: number;
  /** Cumulative layout shift from navigation to `interactive` + SETTLE_MS. */
  clsLoad: number;
  /** Layout shift during the scroll that follows (wheel input does not excuse a shift). */
  clsScroll: number;
  /** Response headers arrived (server time, before any rendering). */
  responseStart: number;
  /** The whole page document arrived (the server streams it as it renders). */
  responseEnd: number;
  /** Size of the page document as the browser decoded it, KiB (what it parses and lays out). */
  documentKiB: number;
  /** First contentful paint. */
  firstPaint: number;
  frames: number[];
  scrolledPx: number;
  reachedBottom: boolean;
}

interface Marks {
  firstCode?: number;
  interactive?: number;
  cls: number;
}

/** Runs in the page before its scripts: notes, once per frame, when each milestone first holds. */
function installMarks({ kind, cells }: { kind: AppKind; cells: number }): void {
  if (window !== window.top) return;
  const marks: Marks = { cls: 0 };
  (window as unknown as { __benchMarks: Marks }).__benchMarks = marks;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries() as (PerformanceEntry & {
      value: number;
      hadRecentInput: boolean;
    })[])
      if (!entry.hadRecentInput) marks.cls += entry.value;
  }).observe({ type: 'layout-shift', buffered: true });
  const onScreen = (el: Element | null | undefined) => {
    if (!el) return false;
    const box = el.getBoundingClientRect();
    return box.height > 0 && box.width > 0 && box.bottom > 0 && box.top < window.innerHeight;
  };
  const check = () => {
    if (kind === 'kiln') {
      const first = document.querySelector('section.cell[aria-label="Cell 1"]');
      const keyword = first?.querySelector('.tok-keyword, .view-lines span[class*="mtk"]:not(.mtk1)');
      if (marks.firstCode === undefined && onScreen(keyword)) marks.firstCode = performance.now();
      const editor = first?.querySelector('.view-lines');
      if (
        marks.interactive === undefined &&
        onScreen(editor) &&
        document.querySelectorAll('.cell-slot').length === cells
      )
        marks.interactive = performance.now();
    } else {
      const keyword = document.querySelector('#notebook-container .code_cell .CodeMirror-code .cm-keyword');
      if (marks.firstCode === undefined && onScreen(keyword)) marks.firstCode = performance.now();
      const jupyter = (window as unknown as { Jupyter?: { notebook?: { _fully_loaded?: boolean } } }).Jupyter;
      if (
        marks.interactive === undefined &&
        jupyter?.notebook?._fully_loaded === true &&
        document.querySelectorAll('#notebook-container > .cell').length === cells
      )
        marks.interactive = performance.now();
    }
    if (marks.firstCode === undefined || marks.interactive === undefined) requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
}

/** Opens `url` in a fresh context (cold cache), times the open, then scrolls the notebook through. */
export async function measureOpen(
  browser: Browser,
  kind: AppKind,
  url: string,
  cells: number,
  storageState?: Session['storageState'],
): Promise<OpenSample> {
  const context = await browser.newContext({ storageState, viewport: VIEWPORT });
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(LOAD_TIMEOUT_MS);
    // tsx (esbuild keepNames) wraps named functions in `__name(...)`, which the page does not have.
    await page.addInitScript('globalThis.__name ??= (f) => f;');
    await page.addInitScript(installMarks, { kind, cells });
    await page.goto(url, { waitUntil: 'commit' });
    const marks = () => page.evaluate(() => (window as unknown as { __benchMarks?: Marks }).__benchMarks);
    await page
      .waitForFunction(
        () => {
          const m = (window as unknown as { __benchMarks?: Marks }).__benchMarks;
          return m?.firstCode !== undefined && m.interactive !== undefined;
        },
        undefined,
        { timeout: LOAD_TIMEOUT_MS, polling: 100 },
      )
      .catch(async (error: Error) => {
        throw new Error(
          `${kind} ${url} did not finish opening: ${error.message}\n${JSON.stringify(await marks())}`,
        );
      });
    await page.waitForTimeout(SETTLE_MS);
    const loaded = (await marks()) as Required<Marks>;
    const timing = await page.evaluate(() => ({
      responseStart: (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming)
        .responseStart,
      responseEnd: (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).responseEnd,
      documentKiB:
        (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).decodedBodySize / 1024,
      firstPaint: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN,
    }));
    const scroll = await scrollThrough(page, SCROLLER[kind]);
    const after = (await marks()) as Required<Marks>;
    return {
      firstCode: loaded.firstCode,
      interactive: loaded.interactive,
      clsLoad: loaded.cls,
      clsScroll: after.cls - loaded.cls,
      ...timing,
      ...scroll,
    };
  } finally {
    await context.close();
  }
}

/** Wheel-scrolls `scroller` from top to bottom in WHEEL_STEP steps, recording every frame interval. */
async function scrollThrough(
  page: Page,
  scroller: string,
): Promise<{ frames: number[]; scrolledPx: number; reachedBottom: boolean }> {
  const box = await page.locator(scroller).boundingBox();
  if (!box) throw new Error(`no scroller ${scroller}`);
  // The scroller's left margin: no inner scroller (a long output's own box) catches the wheel there.
  await page.mouse.move(box.x + 4, box.y + box.height / 2);
  await page.evaluate(() => {
    const state = { frames: [] as number[], stop: false };
    (window as unknown as { __benchScroll: typeof state }).__benchScroll = state;
    let last = -1;
    const tick = (now: number) => {
      if (last >= 0) state.frames.push(now - last);
      last = now;
      if (!state.stop) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  const started = Date.now();
  let steps = 0;
  let atBottom = 0;
  let stuck = 0;
  let lastY = 0;
  while (steps < MAX_WHEEL_STEPS && Date.now() - started < SCROLL_TIMEOUT_MS && atBottom < 3 && stuck < 30) {
    await page.mouse.wheel(0, WHEEL_STEP);
    steps++;
    const probe = await page.evaluate(
      (selector) =>
        new Promise<{ y: number; max: number }>((resolve) =>
          requestAnimationFrame(() =>
            requestAnimationFrame(() => {
              const el = document.querySelector(selector) as HTMLElement;
              resolve({ y: el.scrollTop, max: el.scrollHeight - el.clientHeight });
            }),
          ),
        ),
      scroller,
    );
    atBottom = probe.y >= probe.max - 1 ? atBottom + 1 : 0;
    stuck = probe.y === lastY && atBottom === 0 ? stuck + 1 : 0;
    lastY = probe.y;
  }
  const frames = await page.evaluate(() => {
    const state = (window as unknown as { __benchScroll: { frames: number[]; stop: boolean } }).__benchScroll;
    state.stop = true;
    return state.frames;
  });
  return { frames, scrolledPx: lastY, reachedBottom: atBottom >= 3 };
}
