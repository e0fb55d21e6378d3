/**
 * Browser side of the volume upload protocol: the server keeps what it received, so a dropped
 * connection, a reload, or choosing the same file again continues at the server's offset instead of
 * from zero. Each chunk is one PATCH (XMLHttpRequest, for upload progress).
 */

const CHUNK_BYTES = 8 * 1024 * 1024;
const RETRIES = 5;

export interface UploadTarget {
  /** `/api/workspaces/<id>/volumes/<volume>` */
  base: string;
  path: string;
  csrf: string;
}

async function failure(response: Response): Promise<Error> {
  const body = (await response.json().catch(() => null)) as { message?: string } | null;
  return new Error(body?.message ?? `The server answered ${response.status}`);
}

function storageKey(target: UploadTarget, file: File): string {
  return `kiln-upload:${target.base}:${target.path}:${file.size}:${file.lastModified}`;
}

/** The upload's URL; the path lets a restarted server find the upload again. */
function uploadUrl(target: UploadTarget, id: string): string {
  return `${target.base}/upload?${new URLSearchParams({ id, path: target.path })}`;
}

async function serverOffset(target: UploadTarget, id: string): Promise<number | null> {
  const response = await fetch(uploadUrl(target, id), { headers: { 'x-kiln-csrf': target.csrf } });
  if (response.status === 404) return null;
  if (!response.ok) throw await failure(response);
  return ((await response.json()) as { offset: number }).offset;
}

async function begin(target: UploadTarget, file: File): Promise<string> {
  const response = await fetch(`${target.base}/upload?path=${encodeURIComponent(target.path)}`, {
    method: 'POST',
    headers: { 'x-kiln-csrf': target.csrf, 'upload-length': String(file.size) },
  });
  if (!response.ok) throw await failure(response);
  return ((await response.json()) as { id: string }).id;
}

/** Sends one chunk; resolves with the server's answer, rejects with `network` when the connection broke. */
function sendChunk(
  target: UploadTarget,
  id: string,
  offset: number,
  chunk: Blob,
  onProgress: (sent: number) => void,
  signal?: AbortSignal,
): Promise<{ status: number; offset?: number; done?: boolean; message?: string }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PATCH', uploadUrl(target, id));
    xhr.setRequestHeader('x-kiln-csrf', target.csrf);
    xhr.setRequestHeader('upload-offset', String(offset));
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => {
      const body = (() => {
        try {
          return JSON.parse(xhr.responseText) as { offset?: number; done?: boolean; message?: string };
        } catch {
          return {};
        }
      })();
      resolve({ status: xhr.status, ...body });
    };
    xhr.onerror = () => reject(new Error('network'));
    xhr.onabort = () => reject(new DOMException('Upload cancelled', 'AbortError'));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(chunk);
  });
}

/** Uploads `file` to `target.path`, resuming an earlier attempt of the same file when the server still has it. */
export async function uploadResumable(
  target: UploadTarget,
  file: File,
  onProgress: (loaded: number, total: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  const key = storageKey(target, file);
  const earlier = localStorage.getItem(key);
  const resumed = earlier ? await serverOffset(target, earlier) : null;
  const id = earlier && resumed !== null ? earlier : await begin(target, file);
  let offset: number = earlier && resumed !== null ? resumed : 0;
  localStorage.setItem(key, id);
  onProgress(offset, file.size);
  let failures = 0;
  for (;;) {
    if (offset >= file.size) break;
    const chunk = file.slice(offset, Math.min(file.size, offset + CHUNK_BYTES));
    const at = offset;
    try {
      const answer = await sendChunk(
        target,
        id,
        at,
        chunk,
        (sent) => onProgress(at + sent, file.size),
        signal,
      );
      if (answer.status === 409 || answer.status >= 500) {
        // Out of step (or the server hiccupped): ask where the upload really is.
        const real = await serverOffset(target, id);
        if (real === null) throw new Error('The upload expired on the server; choose the file again');
        offset = real;
        if (++failures > RETRIES) throw new Error(answer.message ?? 'The upload keeps failing');
        continue;
      }
      if (answer.status >= 400) {
        if (answer.status !== 413) localStorage.removeItem(key);
        throw new Error(answer.message ?? `The server answered ${answer.status}`);
      }
      offset = answer.offset ?? at + chunk.size;
      failures = 0;
      if (answer.done) break;
    } catch (error) {
      if (!(error instanceof Error) || error.message !== 'network' || ++failures > RETRIES) throw error;
      // The connection broke: wait a little, then continue from what the server kept.
      await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** failures));
      const real = await serverOffset(target, id);
      if (real === null) throw new Error('The upload expired on the server; choose the file again');
      offset = real;
    }
    onProgress(offset, file.size);
  }
  localStorage.removeItem(key);
  onProgress(file.size, file.size);
}
