import { memo, useMemo } from 'react';
import { tokenizePython } from '../../lib/notebook/highlight.ts';

/**
 * Code as the editor will show it: same font, line height and padding as the Monaco cell editor,
 * coloured by the same token kinds, so nothing moves or changes colour when Monaco takes over.
 */
export const StaticCode = memo(function StaticCode({
  text,
  language,
}: {
  text: string;
  language: 'python' | 'markdown';
}) {
  const tokens = useMemo(
    () => (language === 'python' ? tokenizePython(text) : [{ kind: 'text' as const, text }]),
    [text, language],
  );
  return (
    <pre className={`static-code${language === 'markdown' ? ' static-code-wrap' : ''}`}>
      <code>
        {tokens.map((token, i) =>
          token.kind === 'text' ? (
            token.text
          ) : (
            // Tokens have no identity beyond their position in this text.
            // biome-ignore lint/suspicious/noArrayIndexKey: see above
            <span key={i} className={`tok-${token.kind}`}>
              {token.text}
            </span>
          ),
        )}
        {text.endsWith('\n') || text === '' ? ' ' : null}
      </code>
    </pre>
  );
});
