import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromiumLaunchOptions } from '@kiln/core/chromium';
import { build } from 'esbuild';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prerenderRichText } from './prerender-rich-text.ts';
import { richTextKey } from './rich-text-key.ts';
import { DATAFRAME } from './simple-html.test.ts';
import { sanitizeSimpleHtml } from './simple-html.ts';

// DOMPurify is only as good as the DOM it parses with, so these run in the real Chromium.

let browser: Browser;
let page: Page;

beforeAll(async () => {
  const entry = `
    import { sanitizeHtml, sanitizeSvg } from './sanitize.ts';
    import { renderMarkdown, renderLatex } from './markdown.ts';
    import { ansiToHtml } from './ansi.ts';
    window.kiln = { sanitizeHtml, sanitizeSvg, renderMarkdown, renderLatex, ansiToHtml };`;
  const bundle = await build({
    stdin: { contents: entry, resolveDir: fileURLToPath(new URL('.', import.meta.url)), loader: 'ts' },
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    logLevel: 'silent',
  });
  browser = await chromium.launch(chromiumLaunchOptions());
  page = await browser.newPage();
  await page.setContent('<!doctype html><html><body><div id="out"></div></body></html>');
  await page.addScriptTag({ content: bundle.outputFiles[0]?.text ?? '' });
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

type Fn = 'sanitizeHtml' | 'sanitizeSvg' | 'renderMarkdown' | 'renderLatex' | 'ansiToHtml';

/** Runs one of the modules' functions in the page, inserts the result, and reports whether any script ran. */
async function insert(fn: Fn, input: string): Promise<{ html: string; pwned: boolean }> {
  return page.evaluate(
    async ([name, value]) => {
      const w = window as unknown as { kiln: Record<string, (s: string) => string>; pwned?: boolean };
      w.pwned = false;
      const html = w.kiln[name as string]?.(value as string) ?? '';
      const out = document.getElementById('out') as HTMLElement;
      out.innerHTML = html;
      for (const img of out.querySelectorAll('img')) img.dispatchEvent(new Event('error'));
      await new Promise((resolve) => setTimeout(resolve, 50));
      // Handlers that survived would have set the flag while the page settled.
      return { html, pwned: Boolean(Reflect.get(w, 'pwned')) };
    },
    [fn, input],
  );
}

describe('output and markdown sanitising in Chromium', () => {
  it('keeps a pandas table but drops scripts, handlers, styles and forms', async () => {
    const html =
      '<style>body{display:none}</style><table class="dataframe"><tr><th>a</th><td onclick="window.pwned=true">1</td></tr></table>' +
      '<script>window.pwned=true</script><img src=x onerror="window.pwned=true"><form action="https://evil"><input name=password></form>' +
      '<a href="javascript:window.pwned=true">x</a><iframe src="https://evil"></iframe>';
    const { html: clean, pwned } = await insert('sanitizeHtml', html);
    expect(pwned).toBe(false);
    expect(clean).toContain('<table class="dataframe">');
    expect(clean).toContain('<td>1</td>');
    for (const banned of [
      '<script',
      'onerror',
      'onclick',
      '<style',
      '<form',
      '<input',
      'javascript:',
      '<iframe',
    ]) {
      expect(clean).not.toContain(banned);
    }
  });

  it('opens output links in a new tab without giving the page a handle on ours', async () => {
    const { html } = await insert('sanitizeHtml', '<a href="https://example.com/docs">docs</a>');
    expect(html).toContain('target="_blank"');
    expect(html).toContain('rel="noopener noreferrer nofollow"');
  });

  it('strips scripts and event handlers from SVG', async () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" onload="window.pwned=true"><script>window.pwned=true</script><rect width="10" height="10"/><foreignObject><body><img src=x onerror="window.pwned=true"></body></foreignObject></svg>';
    const { html, pwned } = await insert('sanitizeSvg', svg);
    expect(pwned).toBe(false);
    expect(html).toContain('<rect');
    expect(html).not.toMatch(/script|onload|foreignObject|onerror/i);
  });

  it('renders markdown with KaTeX math and without raw HTML tricks', async () => {
    const { html, pwned } = await insert(
      'renderMarkdown',
      '# Title\n\nInline $x^2$ and display $$\\frac{a}{b}$$\n\n<img src=x onerror="window.pwned=true">\n\n[link](javascript:window.pwned=true)',
    );
    expect(pwned).toBe(false);
    expect(html).toContain('<h1>Title</h1>');
    expect(html).toContain('class="katex"');
    expect(html).toContain('katex-display');
    expect(html).not.toMatch(/onerror|javascript:/);
  });

  it('loads no outside images from outputs or markdown: no tracking beacon reaches the network', async () => {
    const requested: string[] = [];
    const listener = (request: { url(): string }) => requested.push(request.url());
    page.on('request', listener);
    const pixel =
      'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
    const { html } = await insert(
      'sanitizeHtml',
      `<img src="http://beacon.invalid/a.png"><img srcset="http://beacon.invalid/b.png 2x"><img src="${pixel}">` +
        '<div style="background:url(http://beacon.invalid/c.png)">x</div><video poster="http://beacon.invalid/d.png"></video>' +
        '<svg><image href="http://beacon.invalid/e.png"></image></svg>',
    );
    const markdown = await insert('renderMarkdown', '![beacon](http://beacon.invalid/f.png)');
    await new Promise((resolve) => setTimeout(resolve, 300));
    page.off('request', listener);
    expect(requested.filter((url) => url.includes('beacon.invalid'))).toEqual([]);
    expect(html).not.toContain('beacon.invalid');
    expect(html).toContain(pixel);
    expect(markdown.html).not.toContain('beacon.invalid');
  });

  it('keeps a position:fixed overlay in markdown inside its box (the app stays clickable)', async () => {
    const css = readFileSync(
      fileURLToPath(new URL('../../components/notebook/notebook.css', import.meta.url)),
      'utf8',
    );
    const covered = await page.evaluate(
      async ([styles, html]) => {
        const style = document.createElement('style');
        style.textContent = styles as string;
        document.head.append(style);
        document.body.innerHTML =
          '<button id="app" style="position:absolute;top:0;left:0;width:200px;height:50px">app</button>' +
          '<div style="margin-top:300px"><div class="markdown" id="cell"></div><div class="output-markdown markdown" id="output"></div></div>';
        const w = window as unknown as { kiln: Record<string, (s: string) => string> };
        for (const id of ['cell', 'output']) {
          (document.getElementById(id) as HTMLElement).innerHTML =
            w.kiln.renderMarkdown?.(html as string) ?? '';
        }
        await new Promise((resolve) => requestAnimationFrame(resolve));
        const topmost = document.elementFromPoint(10, 10)?.id ?? '';
        style.remove();
        document.body.innerHTML = '<div id="out"></div>';
        return topmost;
      },
      [
        css,
        '<div style="position:fixed;inset:0;z-index:99999;background:white">Your Kiln session expired, sign in again</div>',
      ],
    );
    expect(covered).toBe('app');
  });

  it('renders markdown and TeX on the server exactly as the browser does, wherever it says exact', async () => {
    const pixel =
      'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
    const samples = [
      '# Title\n\nSome **bold**, _italic_, `code` and ~~gone~~.',
      'Inline $x^2 + \\alpha$ and display:\n\n$$\\int_0^1 \\sqrt{x}\\,dx = \\frac{2}{3}$$',
      '$$\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix} \\hat{\\theta} \\widehat{xyz} \\overrightarrow{AB}$$',
      'Bad TeX: $\\frac{1}{$ and $\\unknowncommand$',
      '- one\n- two\n  1. nested\n- [x] done\n- [ ] todo',
      '| a | b |\n|---|:-:|\n| 1 | 2 |',
      '> quoted\n\n---\n\n[docs](https://kiln.test/docs "Docs") <https://kiln.test> [rel](other.ipynb) [bad](javascript:alert(1)) [mail](mailto:a@kiln.test)',
      `![dot](${pixel} "A dot") ![remote](https://kiln.test/x.png)`,
      '```python\nimport os  # comment\nprint("hi", 1)\n```\n\n```\nplain & <text>\n```',
      'Prices: $5 and $10, escaped \\$ and "quotes" & ampersands < >',
    ];
    const latex = ['$$E = mc^2$$', '\\begin{aligned} a &= b \\\\ c &= d \\end{aligned}'];
    const server = prerenderRichText([
      ...samples.map((source) => ({ cell_type: 'markdown', metadata: {}, source })),
      ...latex.map((tex) => ({
        cell_type: 'code',
        metadata: {},
        source: '',
        outputs: [{ output_type: 'display_data', metadata: {}, data: { 'text/latex': tex } }],
      })),
    ]);
    const pairs = [
      ...samples.map((source) => ({
        fn: 'renderMarkdown',
        source,
        render: server[richTextKey('markdown', source)],
      })),
      ...latex.map((source) => ({ fn: 'renderLatex', source, render: server[richTextKey('latex', source)] })),
    ];
    for (const { render } of pairs) expect(render?.exact).toBe(true);
    const compared = await page.evaluate(
      (items) => {
        const w = window as unknown as { kiln: Record<string, (s: string) => string> };
        // Both through the same parser, so only differences in the DOM count, not in how HTML was spelled.
        const dom = (html: string) => {
          const box = document.createElement('div');
          box.innerHTML = html;
          return box.innerHTML;
        };
        return items.map((item) => ({
          server: dom(item.html),
          browser: dom(w.kiln[item.fn]?.(item.source) ?? ''),
        }));
      },
      pairs.map(({ fn, source, render }) => ({ fn, source, html: render?.html ?? '' })),
    );
    for (const { server: fromServer, browser } of compared) expect(fromServer).toBe(browser);
  });

  it('sanitises plain table HTML on the server to exactly what DOMPurify gives in the browser', async () => {
    const samples = [
      DATAFRAME,
      '<table border="1" class="dataframe">\n<thead><tr><th colspan="2" scope="col" align="left">h</th></tr></thead>\n<tbody><tr><td rowspan="2" valign="top" style="color: red">1&nbsp;2</td><td title=\'say "hi"\'>x</td></tr></tbody></table>',
      '  <div>lead</div> <b>b</b><i>i</i><em>e</em><strong>s</strong><code>c</code><small>s</small><sub>1</sub><sup>2</sup><u>u</u><s>s</s><br><br/><hr>',
      '<table><caption>cap</caption><colgroup><col><col class="x"></colgroup><tfoot><tr><td>f</td></tr></tfoot></table>',
      '<div style="background:url(https://beacon.test/a.png)">x</div><pre class="p">a\n  b</pre>',
      '<div>&#x1F600; &#233; &times; &hellip; &middot; &ndash; &mdash; &apos; &quot; &lt;b&gt;</div>\r\n',
      '<DIV CLASS="A">upper</DIV >',
      '<div><style>td { color: red }</style>after</div>',
    ];
    const server = samples.map((html) => sanitizeSimpleHtml(html));
    for (const [i, html] of server.entries()) expect(html, samples[i]).not.toBeNull();
    const browser = await page.evaluate((items) => {
      const w = window as unknown as { kiln: Record<string, (s: string) => string> };
      return items.map((item) => w.kiln.sanitizeHtml?.(item) ?? '');
    }, samples);
    expect(server).toEqual(browser);
    // And what the server sends runs nothing when the page inserts it.
    for (const html of server) expect((await insert('sanitizeHtml', html ?? '')).pwned).toBe(false);
  });

  it('gives OSC-8 terminal links no handle on the app and no referrer', async () => {
    const { html } = await insert(
      'ansiToHtml',
      'see \x1b]8;;https://example.com/docs\x07the docs\x1b]8;;\x07',
    );
    expect(html).toContain(
      '<a target="_blank" rel="noopener noreferrer nofollow" href="https://example.com/docs">',
    );
  });

  it('colours terminal text without letting it inject markup', async () => {
    const { html, pwned } = await insert(
      'ansiToHtml',
      '\x1b[31mred\x1b[0m <img src=x onerror="window.pwned=true">',
    );
    expect(pwned).toBe(false);
    expect(html).toContain('<span style="color:rgb(');
    expect(html).toContain('&lt;img');
  });
});
