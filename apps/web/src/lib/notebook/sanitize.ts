import DOMPurify from 'dompurify';
import { CSS_FETCH } from './simple-html.ts';

// Output HTML comes from code anyone in the workspace can run: no scripts, no forms that could
// phish for passwords, no <style> that could restyle the page around it, no frames or plugins.
const FORBID_TAGS = [
  'style',
  'form',
  'input',
  'button',
  'textarea',
  'select',
  'iframe',
  'frame',
  'object',
  'embed',
  'base',
  'meta',
  'link',
];
const FORBID_ATTR = ['autofocus', 'formaction', 'srcdoc'];

// Attributes that make the browser fetch something as the page renders. Outputs may embed their own
// bytes (data: URLs), never load from elsewhere: a remote image is a tracking beacon that reports who
// opened the notebook, when, and from where.
const FETCHING_ATTRS = ['src', 'srcset', 'poster', 'background', 'href', 'xlink:href'];

function isLink(node: Element): boolean {
  return node.tagName === 'A' || node.tagName === 'AREA' || node.tagName === 'a';
}

function dropOutsideResources(node: Element): void {
  for (const name of FETCHING_ATTRS) {
    const value = node.getAttribute(name);
    if (value === null || (name === 'href' && isLink(node))) continue;
    const trimmed = value.trim();
    // An SVG <use href="#id"> points inside the output itself.
    const local = /^data:/i.test(trimmed) || (name.endsWith('href') && trimmed.startsWith('#'));
    if (!local || name === 'srcset') node.removeAttribute(name);
  }
  const style = node.getAttribute('style');
  if (style && CSS_FETCH.test(style)) node.removeAttribute('style');
}

let hooked = false;
function purifier() {
  // Outside a browser (server rendering) DOMPurify has no DOM and no hooks to add: adding one threw,
  // which failed the server render of the first notebook page with a markdown cell after a start.
  if (!hooked && DOMPurify.isSupported) {
    hooked = true;
    DOMPurify.addHook('afterSanitizeAttributes', (node) => {
      if (isLink(node) && node.hasAttribute('href')) {
        node.setAttribute('target', '_blank');
        node.setAttribute('rel', 'noopener noreferrer nofollow');
      }
      dropOutsideResources(node);
    });
  }
  return DOMPurify;
}

/** Whether this runtime has a DOM to sanitise with (false during server rendering). */
export function canSanitize(): boolean {
  return DOMPurify.isSupported === true;
}

/** Untrusted HTML (rich outputs, rendered markdown) made safe to insert; empty outside a browser. */
export function sanitizeHtml(html: string): string {
  const purify = purifier();
  if (!purify.isSupported) return '';
  return purify.sanitize(html, {
    FORBID_TAGS,
    FORBID_ATTR,
    ALLOW_DATA_ATTR: false,
    // KaTeX renders MathML next to its HTML for screen readers.
    USE_PROFILES: { html: true, mathMl: true, svg: true },
  });
}

/** An untrusted SVG document made safe; callers still show it through <img>, where scripts never run. */
export function sanitizeSvg(svg: string): string {
  const purify = purifier();
  if (!purify.isSupported) return '';
  return purify.sanitize(svg, {
    USE_PROFILES: { svg: true, svgFilters: true },
    FORBID_TAGS: ['style', 'foreignObject'],
  });
}
