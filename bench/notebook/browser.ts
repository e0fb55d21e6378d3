// What the notebook benchmark does in Chromium: sign up, import notebooks through
// `notebook.importIpynb`, then per fresh page load time the first cell and the first Monaco editor
// and wheel-scroll the whole notebook while recording frame times. Every wait is bounded.
import { chromiumLaunchOptions } from '@kiln/core/chromium';
import { type Browser, chromium, type Page } from 'playwright-core';

const VIEWPORT = { width: 1280, height: 800 };
const LOAD_TIMEOUT_MS = Number(process.env.BENCH_LOAD_TIMEOUT_MS ?? 60_000);
/** Pixels per wheel event; a brisk mouse-wheel scroll (about three notches). */
export const WHEEL_STEP = 300;
const MAX_WHEEL_STEPS = 2000;
const SCROLL_TIMEOUT_MS = 120_000;

type StorageState = Awaited<ReturnType<Awaited<ReturnType<Browser['newContext']>>['storageState']>>;

/** A signed-in user's cookies, reused by every fresh context. */
export interface Session {
  storageState: StorageState;
  workspaceSlug: string;
}

/** One fresh page load of a notebook. Times are ms since navigation start. */
export interface LoadSample {
  /** Response headers of the page arrived. */
  responseStart: number;
  domContentLoaded: number;
  /** Region "Cell 1" rendered with a size and inside the viewport. */
  firstCell: number;
  /** Cell 1's Monaco editor mounted (`.view-lines` laid out). */
  firstEditor: number;
  /** Every cell has its slot (the whole document arrived over the websocket). */
  allCells: number;
  /** Cells rendered in full (not placeholders) once loaded. */
  renderedCells: number;
  domNodes: number;
  jsHeapMB: number;
}

/** One wheel scroll from the top of the notebook to its bottom. */
export interface ScrollSample {
  /** Intervals between consecutive animation frames, ms. */
  frames: number[];
  wheelSteps: number;
  scrolledPx: number;
  durationMs: number;
  reachedBottom: boolean;
  /** Steps after which a probe point in the viewport still showed an empty placeholder. */
  blankSteps: number;
  longTasks: number;
  longTaskMs: number;
}

export function launch(): Promise<Browser> {
  return chromium.launch({ ...chromiumLaunchOptions(), timeout: 60_000 });
}

/** Signs a new user up through the sign-up page; the app lands them in their own workspace. */
export async function signUp(browser: Browser, baseUrl: string): Promise<Session> {
  const context = await browser.newContext({ viewport: VIEWPORT });
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(LOAD_TIMEOUT_MS);
    await page.goto(`${baseUrl}/sign-up`);
    await page.getByLabel('Name').fill('Bench User');
    await page.getByLabel('Email').fill(`bench-${Date.now()}@example.test`);
    await page.getByLabel('Password').fill('a long enough password');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.waitForURL(/\/w\/[^/]+/);
    const workspaceSlug = new URL(page.url()).pathname.split('/')[2] ?? '';
    return { storageState: await context.storageState(), workspaceSlug };
  } finally {
    await context.close();
  }
}

/** Imports an .ipynb through tRPC `notebook.importIpynb` with the page's cookies and CSRF token. */
export async function importNotebook(
  browser: Browser,
  baseUrl: string,
  session: Session,
  name: string,
  content: string,
): Promise<string> {
  const context = await browser.newContext({ storageState: session.storageState });
  try {
    const page = await context.newPage();
    await page.goto(`${baseUrl}/w/${session.workspaceSlug}`);
    const result = await page.evaluate(
      async ({ slug, name, content }) => {
        const me = await fetch('/api/trpc/auth.me').then((r) => r.json());
        const csrf: string = me?.result?.data?.json?.csrfToken ?? '';
        const workspaces = await fetch('/api/trpc/workspace.list').then((r) => r.json());
        const list: { id: string; slug: string }[] = workspaces?.result?.data?.json ?? [];
        const workspace = list.find((w) => w.slug === slug);
        if (!workspace) return { status: 0, body: `no workspace ${slug} in ${JSON.stringify(workspaces)}` };
        const response = await fetch('/api/trpc/notebook.importIpynb', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-kiln-csrf': csrf },
          body: JSON.stringify({ json: { workspaceId: workspace.id, name, content } }),
        });
        return { status: response.status, body: await response.text() };
      },
      { slug: session.workspaceSlug, name, content },
    );
    if (result.status !== 200) throw new Error(`import of ${name} answered ${result.status}: ${result.body}`);
    const id = JSON.parse(result.body)?.result?.data?.json?.id;
    if (typeof id !== 'string')
      throw new Error(`import of ${name} returned no id: ${result.body.slice(0, 300)}`);
    return `${baseUrl}/w/${session.workspaceSlug}/n/${id}`;
  } finally {
    await context.close();
  }
}

interface Marks {
  firstCell?: number;
  firstEditor?: number;
  allCells?: number;
}

/** Runs in the page before its scripts: notes, once per frame, when each milestone first holds. */
function installMarks(expectedCells: number): void {
  if (window !== window.top) return;
  const marks: Marks = {};
  (window as unknown as { __benchMarks: Marks }).__benchMarks = marks;
  const check = () => {
    const cell = document.querySelector('section.cell[aria-label="Cell 1"]');
    if (cell && marks.firstCell === undefined) {
      const box = cell.getBoundingClientRect();
      if (box.height > 0 && box.bottom > 0 && box.top < window.innerHeight)
        marks.firstCell = performance.now();
    }
    const lines = cell?.querySelector('.view-lines');
    if (lines && marks.firstEditor === undefined && lines.getBoundingClientRect().height > 0) {
      marks.firstEditor = performance.now();
    }
    if (marks.allCells === undefined && document.querySelectorAll('.cell-slot').length === expectedCells) {
      marks.allCells = performance.now();
    }
    const done =
      marks.firstCell !== undefined && marks.firstEditor !== undefined && marks.allCells !== undefined;
    if (!done && performance.now() < 90_000) requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
}

/** Opens the notebook in a fresh context (cold cache), times it, then scrolls it top to bottom. */
export async function measureLoad(
  browser: Browser,
  session: Session,
  url: string,
  expectedCells: number,
): Promise<{ load: LoadSample; scroll: ScrollSample }> {
  const context = await browser.newContext({ storageState: session.storageState, viewport: VIEWPORT });
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(LOAD_TIMEOUT_MS);
    // tsx (esbuild keepNames) wraps named functions in `__name(...)`, which the page does not have.
    await page.addInitScript('globalThis.__name ??= (f) => f;');
    await page.addInitScript(installMarks, expectedCells);
    await page.goto(url, { waitUntil: 'commit' });
    await page
      .waitForFunction(
        () => {
          const marks = (window as unknown as { __benchMarks?: Marks }).__benchMarks;
          return (
            marks?.firstCell !== undefined && marks.firstEditor !== undefined && marks.allCells !== undefined
          );
        },
        undefined,
        { timeout: LOAD_TIMEOUT_MS, polling: 100 },
      )
      .catch(async (error: Error) => {
        const seen = await page.evaluate(() => ({
          marks: (window as unknown as { __benchMarks?: Marks }).__benchMarks,
          slots: document.querySelectorAll('.cell-slot').length,
          cells: document.querySelectorAll('section.cell').length,
          viewLines: document.querySelectorAll('.view-lines').length,
          text: (document.body.textContent ?? '').slice(0, 400),
        }));
        throw new Error(`${url} did not finish loading: ${error.message}\n${JSON.stringify(seen)}`);
      });
    const load = await page.evaluate(() => {
      const marks = (window as unknown as { __benchMarks: Required<Marks> }).__benchMarks;
      const navigation = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      const memory = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory;
      return {
        responseStart: navigation.responseStart,
        domContentLoaded: navigation.domContentLoadedEventEnd,
        firstCell: marks.firstCell,
        firstEditor: marks.firstEditor,
        allCells: marks.allCells,
        renderedCells: document.querySelectorAll('section.cell').length,
        domNodes: document.getElementsByTagName('*').length,
        jsHeapMB: (memory?.usedJSHeapSize ?? 0) / 1024 / 1024,
      };
    });
    // Let deferred work (editors mounting while idle, images decoding) settle before scrolling.
    await page.waitForTimeout(1000);
    const scroll = await scrollThrough(page);
    return { load, scroll };
  } finally {
    await context.close();
  }
}

/** Wheel-scrolls the window from top to bottom in WHEEL_STEP steps, recording every frame. */
async function scrollThrough(page: Page): Promise<ScrollSample> {
  // The left margin: no inner scroller (long outputs scroll in their own box) catches the wheel there.
  await page.mouse.move(4, VIEWPORT.height / 2);
  await page.evaluate(() => {
    const state = { frames: [] as number[], stop: false, longTasks: 0, longTaskMs: 0 };
    (window as unknown as { __benchScroll: typeof state }).__benchScroll = state;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        state.longTasks++;
        state.longTaskMs += entry.duration;
      }
    }).observe({ type: 'longtask' });
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
  let blankSteps = 0;
  let atBottom = 0;
  let stuck = 0;
  let lastY = 0;
  while (steps < MAX_WHEEL_STEPS && Date.now() - started < SCROLL_TIMEOUT_MS && atBottom < 3 && stuck < 30) {
    await page.mouse.wheel(0, WHEEL_STEP);
    steps++;
    const probe = await page.evaluate(
      () =>
        new Promise<{ y: number; max: number; blank: boolean }>((resolve) =>
          requestAnimationFrame(() =>
            requestAnimationFrame(() => {
              const blank = [0.25, 0.5, 0.75].some((f) =>
                document.elementFromPoint(640, window.innerHeight * f)?.closest('.cell-placeholder'),
              );
              const max = document.documentElement.scrollHeight - window.innerHeight;
              resolve({ y: window.scrollY, max, blank });
            }),
          ),
        ),
    );
    if (probe.blank) blankSteps++;
    atBottom = probe.y >= probe.max - 1 ? atBottom + 1 : 0;
    stuck = probe.y === lastY && atBottom === 0 ? stuck + 1 : 0;
    lastY = probe.y;
  }
  const durationMs = Date.now() - started;
  const recorded = await page.evaluate(() => {
    const state = (window as unknown as { __benchScroll: { frames: number[]; stop: boolean } }).__benchScroll;
    state.stop = true;
    return state as unknown as { frames: number[]; longTasks: number; longTaskMs: number };
  });
  return {
    frames: recorded.frames,
    wheelSteps: steps,
    scrolledPx: lastY,
    durationMs,
    reachedBottom: atBottom >= 3,
    blankSteps,
    longTasks: recorded.longTasks,
    longTaskMs: recorded.longTaskMs,
  };
}
