/** The MIME type Jupyter registers for notebook files. */
export const IPYNB_MIME = 'application/x-ipynb+json';

/** A notebook name for an imported file: its name without the extension, within the 200-character limit. */
export function notebookNameFromFile(fileName: string): string {
  const name = fileName.replace(/\.ipynb$/i, '').trim();
  return (name || 'Imported notebook').slice(0, 200);
}

/** Has the browser save `content` as a file called `filename`. */
export function saveTextFile(filename: string, content: string, type = IPYNB_MIME): void {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
  // Revoked later: some browsers read the URL after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
