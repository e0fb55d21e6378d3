/**
 * The script a notebook page loads before it can run anything: the chunks its HTML names (Next's
 * runtime and the root, workspace and notebook route entries), read from a production build of
 * apps/web (`bash scripts/build-web.sh`), raw and gzipped. No server or browser: the build's own
 * manifests say which files those are. Chunks loaded later (Monaco, the markdown renderer, dialogs'
 * forms) are not counted.
 *   npx tsx bench/notebook-open/entry-js.ts [label]    adds or replaces the row `label` (default:
 *   the commit) in bench/results/notebook-entry-js.{md,json}
 */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { root } from '../notebook/app.ts';

const NEXT = join(root, 'apps', 'web', '.next');
const ROUTE = '/w/[slug]/n/[notebookId]/page';
const RESULTS = join(root, 'bench', 'results', 'notebook-entry-js');

/** Libraries worth knowing about, found by a string only their code carries. */
const MARKERS: Record<string, string> = {
  KaTeX: 'KaTeX parse error',
  marked: 'marked(): ',
  zod: '$ZodType',
  DOMPurify: 'DOMPurify',
};

interface Row {
  label: string;
  date: string;
  files: number;
  rawKiB: number;
  gzipKiB: number;
  contains: string[];
}

async function entryFiles(): Promise<string[]> {
  const build = JSON.parse(await readFile(join(NEXT, 'build-manifest.json'), 'utf8')) as {
    rootMainFiles: string[];
  };
  // The client reference manifest is a script that assigns to globalThis.__RSC_MANIFEST.
  const source = await readFile(join(NEXT, 'server', 'app', `${ROUTE}_client-reference-manifest.js`), 'utf8');
  const scope: {
    self?: unknown;
    __RSC_MANIFEST?: Record<string, { entryJSFiles: Record<string, string[]> }>;
  } = {};
  scope.self = scope;
  runInNewContext(source, scope);
  const entries = scope.__RSC_MANIFEST?.[ROUTE]?.entryJSFiles;
  if (!entries) throw new Error(`no client manifest for ${ROUTE}: build apps/web first`);
  // The route's chain: the root and workspace layouts and the page (not the error boundaries).
  const chain = Object.entries(entries)
    .filter(([name]) => name.startsWith('[project]/apps/web/src/app/') && /\/(layout|page)$/.test(name))
    .flatMap(([, files]) => files);
  return [...new Set([...build.rootMainFiles, ...chain])];
}

async function measure(label: string): Promise<Row> {
  const files = await entryFiles();
  let raw = 0;
  let gzip = 0;
  const found = new Set<string>();
  for (const file of files) {
    const bytes = await readFile(join(NEXT, file));
    raw += bytes.length;
    gzip += gzipSync(bytes, { level: 9 }).length;
    const text = bytes.toString('utf8');
    for (const [name, marker] of Object.entries(MARKERS)) if (text.includes(marker)) found.add(name);
  }
  return {
    label,
    date: new Date().toISOString(),
    files: files.length,
    rawKiB: raw / 1024,
    gzipKiB: gzip / 1024,
    contains: Object.keys(MARKERS).filter((name) => found.has(name)),
  };
}

async function main(): Promise<void> {
  const label =
    process.argv[2] ?? execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  const row = await measure(label);
  const rows: Row[] = await readFile(`${RESULTS}.json`, 'utf8')
    .then((text) => (JSON.parse(text) as { rows: Row[] }).rows)
    .catch(() => []);
  const next = [...rows.filter((r) => r.label !== label), row];
  const markdown = [
    '# Notebook page: entry script',
    '',
    '`npx tsx bench/notebook-open/entry-js.ts [label]` on a production build of apps/web. The chunks the notebook',
    "page's HTML loads before anything runs (Next's runtime, the root and workspace layouts, the notebook page),",
    "from the build's manifests; gzip at level 9. Later chunks (Monaco, the markdown renderer, the output sanitiser",
    'with DOMPurify, dialogs\' forms) are not counted. "Contains" lists libraries found in those chunks by a string',
    'only their code carries (Monaco carries its own DOMPurify, in a later chunk).',
    '',
    '| Build | Files | Raw | Gzip | Contains |',
    '|---|---|---|---|---|',
    ...next.map(
      (r) =>
        `| ${r.label} | ${r.files} | ${r.rawKiB.toFixed(0)} KiB | ${r.gzipKiB.toFixed(0)} KiB | ${r.contains.join(', ') || '-'} |`,
    ),
    '',
  ].join('\n');
  await writeFile(`${RESULTS}.json`, `${JSON.stringify({ route: ROUTE, rows: next }, null, 2)}\n`);
  await writeFile(`${RESULTS}.md`, markdown);
  console.log(markdown);
}

await main();
