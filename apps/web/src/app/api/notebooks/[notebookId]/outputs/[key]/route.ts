import { isDomainError } from '@kiln/core';
import { getDb } from '../../../../../../server/db.ts';
import { authorizeNotebook } from '../../../../../../server/notebook-access.ts';
import { getNotebookServices } from '../../../../../../server/notebook-services-slot.ts';

export const dynamic = 'force-dynamic';

const notFound = () => new Response('Not found', { status: 404, headers: { 'content-type': 'text/plain' } });

/** The full text of an output the shared document only kept the start of (any workspace member). */
export async function GET(
  request: Request,
  { params }: { params: Promise<{ notebookId: string; key: string }> },
): Promise<Response> {
  const { notebookId, key } = await params;
  try {
    await authorizeNotebook(getDb(), request.headers.get('cookie'), notebookId);
  } catch (error) {
    if (isDomainError(error) && error.code === 'UNAUTHENTICATED') {
      return new Response('Sign in to download this output', {
        status: 401,
        headers: { 'content-type': 'text/plain' },
      });
    }
    if (isDomainError(error)) return notFound();
    throw error;
  }
  // Keys are only meaningful inside their notebook: the store is asked for this notebook's entry.
  const download = await getNotebookServices()?.executionService?.overflow.get(notebookId, key);
  if (!download) return notFound();
  const extension = download.mimeType.startsWith('application/json') ? 'json' : 'txt';
  return new Response(download.body, {
    headers: {
      'content-type': download.mimeType,
      'content-disposition': `attachment; filename="output-${download.cellId.replace(/[^A-Za-z0-9_-]/g, '')}.${extension}"`,
      'cache-control': 'private, no-store',
      'x-content-type-options': 'nosniff',
    },
  });
}
