/** Keyword arguments typed as JSON: an object (empty text is no arguments), or why it is not one. */
export function parseArguments(text: string): { args: Record<string, unknown> } | { error: string } {
  if (text.trim() === '') return { args: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { error: `Arguments are not valid JSON: ${(error as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { error: 'Arguments must be a JSON object of keyword arguments, such as {"name": "Kiln"}' };
  }
  return { args: value as Record<string, unknown> };
}
