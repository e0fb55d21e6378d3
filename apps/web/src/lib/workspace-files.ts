/** Where a workspace file opens: notebooks under /n/, function files under /f/. */
export function fileHref(slug: string, file: { id: string; kind?: 'notebook' | 'function' }): string {
  return `/w/${slug}/${file.kind === 'function' ? 'f' : 'n'}/${file.id}`;
}

/** The id of the file the path shows (a notebook or a function file), or null. */
export function fileIdInPath(slug: string, pathname: string): string | null {
  for (const kind of ['n', 'f']) {
    const base = `/w/${slug}/${kind}/`;
    if (pathname.startsWith(base)) return pathname.slice(base.length).split('/')[0] || null;
  }
  return null;
}
