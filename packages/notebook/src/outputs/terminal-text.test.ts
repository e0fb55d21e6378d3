import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { appendStreamText, renderTerminalLine, type StreamTail } from './terminal-text.ts';

function streamInto(fragments: string[]): { text: string; deltas: unknown[] } {
  const doc = new Y.Doc();
  const text = doc.getText('t');
  const deltas: unknown[] = [];
  text.observe((event) => deltas.push(event.delta));
  let tail: StreamTail | null = null;
  for (const fragment of fragments) {
    tail = appendStreamText(text, fragment, tail).tail;
    // The remembered tail must always match what is really in the document.
    const current = text.toString();
    expect(tail.lastLine).toBe(current.slice(current.lastIndexOf('\n') + 1));
  }
  return { text: text.toString(), deltas };
}

describe('carriage returns and backspaces', () => {
  it('redraws a progress line in place and treats \\r\\n as a newline', () => {
    expect(streamInto(['progress 10%\r', 'progress 20%\r', 'progress 100%\n', 'done\r\n']).text).toBe(
      'progress 100%\ndone\n',
    );
    expect(renderTerminalLine('', 'a\r\nb', null).text).toBe('a\nb');
  });

  it('overwrites only as much as the new text covers, like a terminal', () => {
    expect(streamInto(['abcdef\r', 'XY']).text).toBe('XYcdef');
    expect(streamInto(['abcdef\rXY', 'Z']).text).toBe('XYZdef');
  });

  it('removes the character before a backspace', () => {
    expect(streamInto(['abc\b\bX']).text).toBe('aX');
    expect(streamInto(['\bstart']).text).toBe('start');
  });

  it('sends collaborators only the changed characters', () => {
    const { deltas } = streamInto(['step 1/3 [#  ]\r', 'step 2/3 [## ]\r']);
    expect(deltas[1]).toEqual([{ retain: 5 }, { delete: 9 }, { insert: '2/3 [## ]' }]);
    const appended = streamInto(['line one\n', 'line two\n']).deltas[1];
    expect(appended).toEqual([{ retain: 9 }, { insert: 'line two\n' }]);
  });

  it('keeps emoji whole when a redraw shares part of a surrogate pair', () => {
    expect(streamInto(['😀a\r', '😁b']).text).toBe('😁b');
  });

  it('shows a real tqdm bar as its final state however the bytes are chunked', () => {
    const python = spawnSync(
      '/usr/bin/python3',
      [
        '-c',
        'import sys\nfrom tqdm import tqdm\nfor _ in tqdm(range(50), file=sys.stdout, mininterval=0, ascii=True, ncols=60): pass\nprint("done")',
      ],
      { encoding: 'utf8' },
    );
    expect(python.status).toBe(0);
    const raw = python.stdout;
    expect(raw).toContain('\r');
    const whole = streamInto([raw]).text;
    expect(whole.split('\n')).toHaveLength(3);
    expect(whole).toMatch(/^100%\|#+\| 50\/50 .*\ndone\n$/);
    const chunks = raw.match(/[\s\S]{1,7}/g) as string[];
    expect(streamInto(chunks).text).toBe(whole);
  });
});
