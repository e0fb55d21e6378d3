import type { JupyterMessage } from '@kiln/kernel-protocol/client';

function redactTexts(value: unknown, redact: (text: string) => string): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map((item) => redactTexts(item, redact));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactTexts(item, redact)]));
  }
  return value;
}

/** `message` with `redact` (secret masking) applied to every text in its content; as it is without one. */
export function redactMessage(message: JupyterMessage, redact?: (text: string) => string): JupyterMessage {
  if (!redact) return message;
  return { ...message, content: redactTexts(message.content, redact) as JupyterMessage['content'] };
}
