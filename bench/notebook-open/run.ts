/**
 * Notebook-open benchmark against a peer in the same run: Kiln (production build, fresh database)
 * and Debian's Jupyter Notebook 6.4 server open the same generated .ipynb files (20 and 500 cells)
 * in the same Chromium. Per fresh page load: first code cell visible with highlighting, fully
 * interactive, cumulative layout shift, then frames over 50 ms while wheel-scrolling to the bottom.
 *   npx tsx bench/notebook-open/run.ts    writes bench/results/notebook-open.{md,json}
 * BENCH_LOADS (default 3) sets the fresh page loads per notebook and app; loads alternate between
 * the apps so a change in machine load hits both.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { type App, root, startApp } from '../notebook/app.ts';
import { importNotebook, launch, type Session, signUp } from '../notebook/browser.ts';
import { LARGE, makeNotebook, type NotebookShape, SMALL } from '../notebook/make-notebook.ts';
import { type JupyterPeer, startJupyter } from './jupyter.ts';
import { type AppKind, measureOpen, type OpenSample, VIEWPORT, WHEEL_STEP } from './measure.ts';

const LOADS = Number(process.env.BENCH_LOADS ?? 3);
const JANK_MS = 50;
const TARGET_MS: Record<number, number> = { [SMALL.cells]: 500, [LARGE.cells]: 1000 };

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

interface Side {
  samples: OpenSample[];
  firstCode: number;
  interactive: number;
  clsLoad: number;
  clsScroll: number;
  responseStart: number;
  responseEnd: number;
  documentKiB: number;
  firstPaint: number;
  frames: number;
  over50: number;
  over50PerLoad: number[];
  reachedBottom: boolean;
}

function summarize(samples: OpenSample[]): Side {
  const frames = samples.flatMap((s) => s.frames);
  return {
    samples: samples.map((s) => ({ ...s, frames: [] })),
    firstCode: median(samples.map((s) => s.firstCode)),
    interactive: median(samples.map((s) => s.interactive)),
    clsLoad: median(samples.map((s) => s.clsLoad)),
    clsScroll: median(samples.map((s) => s.clsScroll)),
    responseStart: median(samples.map((s) => s.responseStart)),
    responseEnd: median(samples.map((s) => s.responseEnd)),
    documentKiB: median(samples.map((s) => s.documentKiB)),
    firstPaint: median(samples.map((s) => s.firstPaint)),
    frames: frames.length,
    over50: frames.filter((f) => f > JANK_MS).length,
    over50PerLoad: samples.map((s) => s.frames.filter((f) => f > JANK_MS).length),
    reachedBottom: samples.every((s) => s.reachedBottom),
  };
}

interface Row {
  shape: NotebookShape;
  kiln: Side;
  jupyter: Side;
}

async function measureShape(
  browser: Browser,
  shape: NotebookShape,
  kilnUrl: string,
  session: Session,
  jupyterUrl: string,
): Promise<Row> {
  const samples: Record<AppKind, OpenSample[]> = { kiln: [], jupyter: [] };
  for (let i = 0; i < LOADS; i++) {
    // Alternate which app goes first, so neither always opens on a machine the other just warmed.
    const order: AppKind[] = i % 2 === 0 ? ['kiln', 'jupyter'] : ['jupyter', 'kiln'];
    for (const kind of order) {
      const sample =
        kind === 'kiln'
          ? await measureOpen(browser, 'kiln', kilnUrl, shape.cells, session.storageState)
          : await measureOpen(browser, 'jupyter', jupyterUrl, shape.cells);
      samples[kind].push(sample);
      console.log(
        `  ${shape.cells} cells, ${kind} load ${i + 1}: first code ${sample.firstCode.toFixed(0)} ms, ` +
          `interactive ${sample.interactive.toFixed(0)} ms, CLS ${sample.clsLoad.toFixed(4)} (scroll ${sample.clsScroll.toFixed(4)}), ` +
          `${sample.frames.length} frames, >${JANK_MS} ms: ${sample.frames.filter((f) => f > JANK_MS).length}` +
          (sample.reachedBottom ? '' : ' (did not reach the bottom)'),
      );
    }
  }
  return { shape, kiln: summarize(samples.kiln), jupyter: summarize(samples.jupyter) };
}

const ms = (v: number) => `${v.toFixed(0)} ms`;
const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a');

function table(rows: Row[]): string[] {
  const lines: string[] = [];
  for (const { shape, kiln, jupyter } of rows) {
    const target = TARGET_MS[shape.cells];
    lines.push(
      `### ${shape.cells} cells`,
      '',
      '| Measure | Kiln | Jupyter Notebook | Kiln / Jupyter |',
      '|---|---|---|---|',
      `| Response headers (server time, median) | ${ms(kiln.responseStart)} | ${ms(jupyter.responseStart)} | ${ratio(kiln.responseStart, jupyter.responseStart)} |`,
      `| Page document complete (median) | ${ms(kiln.responseEnd)} | ${ms(jupyter.responseEnd)} | ${ratio(kiln.responseEnd, jupyter.responseEnd)} |`,
      `| Page document size (median) | ${kiln.documentKiB.toFixed(0)} KiB | ${jupyter.documentKiB.toFixed(0)} KiB | ${ratio(kiln.documentKiB, jupyter.documentKiB)} |`,
      `| First contentful paint (median) | ${ms(kiln.firstPaint)} | ${ms(jupyter.firstPaint)} | ${ratio(kiln.firstPaint, jupyter.firstPaint)} |`,
      `| First code cell visible, highlighted (median) | ${ms(kiln.firstCode)} | ${ms(jupyter.firstCode)} | ${ratio(kiln.firstCode, jupyter.firstCode)} |`,
      `| Fully interactive (median) | ${ms(kiln.interactive)} | ${ms(jupyter.interactive)} | ${ratio(kiln.interactive, jupyter.interactive)} |`,
      `| Cumulative layout shift while opening (median) | ${kiln.clsLoad.toFixed(4)} | ${jupyter.clsLoad.toFixed(4)} | ${ratio(kiln.clsLoad, jupyter.clsLoad)} |`,
      `| Layout shift while scrolling (median) | ${kiln.clsScroll.toFixed(4)} | ${jupyter.clsScroll.toFixed(4)} | ${ratio(kiln.clsScroll, jupyter.clsScroll)} |`,
      `| Frames > ${JANK_MS} ms while scrolling (all loads; per load) | ${kiln.over50} of ${kiln.frames} (${kiln.over50PerLoad.join(', ')}) | ${jupyter.over50} of ${jupyter.frames} (${jupyter.over50PerLoad.join(', ')}) | ${ratio(kiln.over50 / Math.max(1, kiln.frames), jupyter.over50 / Math.max(1, jupyter.frames))} per frame |`,
      `| Every scroll reached the bottom | ${kiln.reachedBottom ? 'yes' : 'no'} | ${jupyter.reachedBottom ? 'yes' : 'no'} | |`,
      '',
      `Per load, first code (ms): Kiln ${kiln.samples.map((s) => s.firstCode.toFixed(0)).join(', ')}; ` +
        `Jupyter ${jupyter.samples.map((s) => s.firstCode.toFixed(0)).join(', ')}.`,
      `Target: first code visible within ${target} ms on an idle machine (${kiln.firstCode <= (target ?? 0) ? 'met' : 'missed'} in this run) ` +
        `and faster than the peer (${kiln.firstCode < jupyter.firstCode ? 'yes' : 'no'}).`,
      '',
    );
  }
  return lines;
}

async function main(): Promise<void> {
  const date = new Date().toISOString();
  const uptime = execFileSync('uptime', { encoding: 'utf8' }).trim();
  const chromium = execFileSync('/usr/bin/chromium', ['--version'], { encoding: 'utf8' }).trim();
  const shapes = [SMALL, LARGE];
  const made = shapes.map((shape) => ({
    shape,
    ...makeNotebook(shape),
    file: `bench-${shape.cells}-cells.ipynb`,
  }));
  let app: App | undefined;
  let peer: JupyterPeer | undefined;
  let browser: Browser | undefined;
  const teardown = async () => {
    await browser?.close().catch(() => undefined);
    await app?.stop();
    await peer?.stop();
  };
  const onSignal = () => void teardown().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    app = await startApp();
    peer = await startJupyter(Object.fromEntries(made.map((m) => [m.file, m.content])));
    browser = await launch();
    const session = await signUp(browser, app.baseUrl);
    const rows: Row[] = [];
    const loadDuring: number[] = [];
    // One unmeasured open of the small notebook in each app first: a server's first page (route
    // code loaded, caches filled) says how it starts, not how it opens notebooks.
    const small = made[0];
    if (small) {
      const warmUrl = await importNotebook(browser, app.baseUrl, session, 'warm-up', small.content);
      await measureOpen(browser, 'kiln', warmUrl, small.shape.cells, session.storageState);
      await measureOpen(browser, 'jupyter', peer.urlFor(small.file), small.shape.cells);
    }
    for (const m of made) {
      const kilnUrl = await importNotebook(
        browser,
        app.baseUrl,
        session,
        m.file.replace('.ipynb', ''),
        m.content,
      );
      console.log(`${m.shape.cells} cells: ${(m.content.length / 1e6).toFixed(2)} MB .ipynb`);
      rows.push(await measureShape(browser, m.shape, kilnUrl, session, peer.urlFor(m.file)));
      loadDuring.push(loadavg()[0] as number);
    }
    const uptimeAfter = execFileSync('uptime', { encoding: 'utf8' }).trim();
    const describe = (m: (typeof made)[number]) =>
      `${m.shape.cells} cells (${m.counts.code} code, ${m.counts.markdown} markdown, ${m.counts.images} PNG), ` +
      `.ipynb ${(m.content.length / 1024 / 1024).toFixed(2)} MiB`;
    const markdown = [
      '# Notebook open: Kiln against Jupyter Notebook 6.4',
      '',
      `Run ${date} with \`npx tsx bench/notebook-open/run.ts\` on linux x64, ${availableParallelism()} cores.`,
      `Machine load: \`uptime\` before: ${uptime}; 1-min load average after each notebook: ${loadDuring.map((l) => l.toFixed(2)).join(', ')}; ` +
        `after: ${uptimeAfter}. The machine is shared with other work, so it was not idle: absolute times are inflated, ratios less so.`,
      `Kiln: production build, fresh migrated Postgres database, loopback. Peer: ${peer.version} from Debian, its own empty HOME ` +
        '(no extensions), token auth; it also starts a kernel for the notebook on first open (Kiln starts none).',
      `Browser: ${chromium} headless (--disable-gpu), viewport ${VIEWPORT.width}x${VIEWPORT.height}, a fresh context (cold cache) per load.`,
      '',
      ...made.map(
        (m) =>
          `- ${describe(m)}: the same file in both (imported into Kiln through \`notebook.importIpynb\`).`,
      ),
      `- ${LOADS} fresh loads per notebook and app, alternating, after one unmeasured warm-up open of the 20-cell notebook in each app; ` +
        'times are ms from navigation start, medians over the loads.',
      '- First code visible: a keyword token of the first code cell on screen with its highlight class (Kiln: server-rendered ' +
        'static code or Monaco; Jupyter: CodeMirror `cm-keyword`).',
      '- Fully interactive: the whole notebook is in the page and the first cell has its editor (Kiln: every cell slot and ' +
        "Cell 1's Monaco; Jupyter: `Jupyter.notebook._fully_loaded` and every cell element).",
      `- Layout shift: sum of \`layout-shift\` entries without recent input, from navigation to interactive + 1 s; then during a ` +
        `wheel scroll (${WHEEL_STEP} px per event, two frames each) from top to bottom, when every frame interval is recorded.`,
      '',
      ...table(rows),
    ].join('\n');
    const results = join(root, 'bench', 'results');
    await writeFile(
      join(results, 'notebook-open.json'),
      `${JSON.stringify({ date, uptime, uptimeAfter, loadDuring, chromium, peer: peer.version, loads: LOADS, rows }, null, 2)}\n`,
    );
    await writeFile(join(results, 'notebook-open.md'), markdown);
    console.log(`\n${markdown}`);
  } finally {
    await teardown();
  }
}

await main();
