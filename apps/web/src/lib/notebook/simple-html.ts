/**
 * A DOM-free sanitiser for the plain HTML that tables print (pandas DataFrames and the like), so the
 * server can render such outputs into the first response. It is deliberately narrow: it accepts only
 * HTML whose tree the browser's parser would build exactly as written (known tags, properly nested,
 * no comments, no implied or foster-parented elements) and returns the same string DOMPurify gives in
 * the browser with the rules of sanitize.ts; for anything else it returns null and the browser
 * sanitises the output itself. Everything it keeps is inert: tables, text and a few formatting tags,
 * no links, no images, no URLs of any kind.
 */

/** Elements whose content model the parser leaves alone when well nested. */
const PHRASING = new Set(['span', 'b', 'i', 'em', 'strong', 'code', 'small', 'sub', 'sup', 'u', 's', 'br']);
const FLOW = new Set([...PHRASING, 'div', 'p', 'pre', 'table', 'hr', 'style']);
/** What each element may contain here; an element not listed holds flow content. */
const CHILDREN: Record<string, Set<string>> = {
  table: new Set(['caption', 'colgroup', 'thead', 'tbody', 'tfoot']),
  colgroup: new Set(['col']),
  thead: new Set(['tr']),
  tbody: new Set(['tr']),
  tfoot: new Set(['tr']),
  tr: new Set(['th', 'td']),
  p: PHRASING,
  pre: PHRASING,
  ...Object.fromEntries([...PHRASING].map((tag) => [tag, PHRASING])),
};
/** Where text would be moved out of place (foster parenting): only whitespace is kept as written. */
const NO_TEXT = new Set(['table', 'colgroup', 'thead', 'tbody', 'tfoot', 'tr']);
const VOID = new Set(['br', 'hr', 'col']);

// Attributes DOMPurify keeps as they are (its URI-safe list), and those it keeps only when the value
// does not look like a URL: for these a value without a colon is required, which is stricter.
const FREE_ATTRS = new Set(['class', 'style', 'title']);
const PLAIN_ATTRS = new Set(['border', 'colspan', 'rowspan', 'align', 'valign', 'scope', 'width', 'height']);
const PLAIN_VALUE = /^[\w .%#-]*$/;
/** The same rule sanitize.ts applies: a style that can fetch something is dropped. */
export const CSS_FETCH = /url\s*\(|image-set\s*\(|@import/i;

const NAMED: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  times: '\u00d7',
  hellip: '\u2026',
  middot: '\u00b7',
  ndash: '\u2013',
  mdash: '\u2014',
};

class Refused extends Error {}
const refuse = (why: string): never => {
  throw new Refused(why);
};

/** Decodes character references; any `&` that is not a complete, ordinary one is refused. */
function decode(text: string): string {
  return text.replace(/&([^;]{0,12});?/g, (whole, body: string) => {
    if (!whole.endsWith(';')) return refuse('incomplete character reference');
    const named = NAMED[body];
    if (named !== undefined) return named;
    const numeric = /^#(?:x([0-9a-f]{1,6})|([0-9]{1,7}))$/i.exec(body);
    if (!numeric) return refuse(`character reference &${body};`);
    const code = numeric[1] ? Number.parseInt(numeric[1], 16) : Number(numeric[2]);
    // The parser remaps C1 controls (windows-1252) and replaces others; keep to plain characters.
    const plain =
      (code >= 0x20 && code < 0x7f) ||
      (code >= 0xa0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff));
    if (!plain && code !== 0x0a && code !== 0x09) refuse(`character reference &${body};`);
    return String.fromCodePoint(code);
  });
}

const escapeText = (text: string) =>
  text.replace(/[&<>\u00a0]/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&nbsp;',
  );
const escapeAttr = (text: string) =>
  text.replace(/[&"\u00a0]/g, (c) => (c === '&' ? '&amp;' : c === '"' ? '&quot;' : '&nbsp;'));

const MAX_DEPTH = 100;
// Quoted values only: an unquoted one may end in a slash the parser keeps and a regex would not.
const ATTR = /^[\t\n\f ]+([a-zA-Z][a-zA-Z0-9-]*)(?:[\t\n\f ]*=[\t\n\f ]*(?:"([^"]*)"|'([^']*)'))?/;

function attributes(source: string): string {
  let rest = source;
  let out = '';
  const seen = new Set<string>();
  while (rest.length > 0) {
    const match = ATTR.exec(rest);
    if (!match) return refuse('attribute syntax');
    rest = rest.slice(match[0].length);
    const name = (match[1] as string).toLowerCase();
    if (seen.has(name)) refuse('repeated attribute');
    seen.add(name);
    const value = decode(match[2] ?? match[3] ?? '');
    if (/[<>]/.test(value)) refuse('angle bracket in an attribute');
    if (name === 'style' && CSS_FETCH.test(value)) continue;
    if (!FREE_ATTRS.has(name) && !(PLAIN_ATTRS.has(name) && PLAIN_VALUE.test(value))) {
      refuse(`attribute ${name}`);
    }
    out += ` ${name}="${escapeAttr(value)}"`;
  }
  return out;
}

const TAG = /^<(\/?)([a-zA-Z][a-zA-Z0-9]*)((?:[\t\n\f ]+[^\t\n\f />][^>]*?)?)[\t\n\f ]*(\/?)>/;

/**
 * The sanitised HTML, identical to what the browser's DOMPurify returns for it, or null when the
 * input is outside the narrow form this understands (the browser then sanitises it).
 */
export function sanitizeSimpleHtml(input: string): string | null {
  try {
    return sanitize(input);
  } catch (error) {
    if (error instanceof Refused) return null;
    throw error;
  }
}

function sanitize(input: string): string {
  // The parser's own preprocessing: CR LF and lone CR become LF; NUL is refused.
  const html = input.replace(/\r\n?/g, '\n');
  if (html.includes('\0')) refuse('NUL');
  const stack: string[] = [];
  let out = '';
  let pos = 0;
  // A <style> before any content would go to the document's head, taking the whitespace after it.
  let content = false;
  // The element whose start tag came last, when nothing followed it yet.
  let justOpened: string | null = null;
  while (pos < html.length) {
    const lt = html.indexOf('<', pos);
    const text = html.slice(pos, lt === -1 ? html.length : lt);
    const parent = stack[stack.length - 1];
    if (text) {
      const blank = /^[\t\n\f ]*$/.test(text);
      if (!blank && parent !== undefined && NO_TEXT.has(parent)) refuse('text inside a table');
      if (!blank) content = true;
      // The parser drops a newline that directly follows <pre>.
      if (justOpened === 'pre' && text.startsWith('\n')) refuse('newline after <pre>');
      out += escapeText(decode(text));
    }
    justOpened = null;
    if (lt === -1) break;
    const match = TAG.exec(html.slice(lt, lt + 4096));
    if (!match) return refuse('not a plain tag');
    pos = lt + match[0].length;
    const tag = (match[2] as string).toLowerCase();
    if (match[1] === '/') {
      if (match[3] || match[4] || parent !== tag) refuse(`end tag ${tag}`);
      stack.pop();
      out += `</${tag}>`;
      continue;
    }
    const allowed = parent === undefined ? FLOW : (CHILDREN[parent] ?? FLOW);
    if (!allowed.has(tag)) refuse(`${tag} inside ${parent ?? 'the output'}`);
    if (match[4] && !VOID.has(tag)) refuse(`self-closing ${tag}`);
    if (tag === 'style') {
      // Dropped with its content, as DOMPurify does; its text ends at the first </style>.
      if (!content && stack.length === 0) refuse('style at the start');
      const end = html.slice(pos).search(/<\/style/i);
      if (end === -1 || html.slice(pos + end, pos + end + 8).toLowerCase() !== '</style>')
        refuse('style end');
      pos += end + '</style>'.length;
      continue;
    }
    content = true;
    out += `<${tag}${attributes(match[3] ?? '')}>`;
    if (!VOID.has(tag)) {
      stack.push(tag);
      justOpened = tag;
      if (stack.length > MAX_DEPTH) refuse('too deep');
    }
  }
  if (stack.length > 0) refuse('unclosed element');
  return out;
}
