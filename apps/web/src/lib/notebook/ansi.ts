import { AnsiUp } from 'ansi_up';

/**
 * Terminal text (stream output, tracebacks) as HTML with ANSI colours as inline styles. ansi_up
 * escapes `<`, `>` and `&` itself, so the result is safe to insert without a sanitiser.
 */
export function ansiToHtml(text: string): string {
  const converter = new AnsiUp();
  converter.use_classes = false;
  converter.escape_html = true;
  // Bare URLs are not linked: a link in output would be a click away from a phishing page. OSC-8
  // hyperlinks (http/https only, ansi_up drops other schemes) open in a new tab that gets no handle
  // on this one and no referrer; the text is escaped, so every `<a ` here is ansi_up's own.
  return converter
    .ansi_to_html(text)
    .replaceAll('<a href="', '<a target="_blank" rel="noopener noreferrer nofollow" href="');
}

/** Text with ANSI escape sequences removed (for copying and for aria labels). */
export function stripAnsi(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC is exactly what this removes.
  return text.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '');
}
