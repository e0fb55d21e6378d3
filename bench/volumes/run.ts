/**
 * Upload and download throughput of a 1 GiB file through the volume file API (the gateway routes the
 * browser's file browser reaches through the web app: resumable upload in 8 MiB PATCH chunks, streamed
 * download) against `cp` of the same file on the same disk. The file lives in a temporary dir and is
 * deleted afterwards. Usage: node --import tsx bench/volumes/run.ts [--mib 1024]
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs, promisify } from 'node:util';
import { createGateway } from '@kiln/kernel-gateway';
import { workspaceToken } from '@kiln/kernel-protocol/client';

const run = promisify(execFile);
const MIB = 1024 * 1024;
const CHUNK = 8 * MIB;
const { values } = parseArgs({ options: { mib: { type: 'string', default: '1024' } } });
const sizeMiB = Number(values.mib);
const TOKEN = `bench-${randomBytes(16).toString('hex')}`;
const WORKSPACE = '3f1e0c7a-1b2c-4d5e-8f90-123456789abc';

async function timed(work: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

async function makeSource(path: string): Promise<void> {
  const block = randomBytes(16 * MIB);
  const file = await open(path, 'w');
  try {
    for (let written = 0; written < sizeMiB * MIB; written += block.length) await file.write(block);
  } finally {
    await file.close();
  }
}

const dir = await mkdtemp(join(tmpdir(), 'kiln-bench-volumes-'));
const volume = join(dir, 'volume');
await mkdir(volume);
const source = join(dir, 'source.bin');
const gateway = createGateway({
  token: TOKEN,
  driver: {
    start: () => Promise.reject(new Error('no kernels in this benchmark')),
    capabilities: () => ({ gpu: false, checkpoint: false, runscVersion: 'none' }),
    close: async () => {},
  },
  volumes: async () => volume,
  maxUploadBytes: 512 * MIB,
});
try {
  await makeSource(source);
  const bytes = (await stat(source)).size;
  const { url } = await gateway.listen(0);
  const base = `${url}/kiln/volumes/workspace`;
  const auth = { authorization: `token ${workspaceToken(TOKEN, WORKSPACE)}` };

  const cpCopy = await timed(async () => {
    await run('cp', [source, join(dir, 'cp-copy.bin')]);
  });
  await rm(join(dir, 'cp-copy.bin'));

  const upload = await timed(async () => {
    const started = await fetch(`${base}/upload?path=uploaded.bin`, {
      method: 'POST',
      headers: { ...auth, 'upload-length': String(bytes) },
    });
    if (!started.ok) throw new Error(`upload start: ${started.status} ${await started.text()}`);
    const { id } = (await started.json()) as { id: string };
    for (let offset = 0; offset < bytes; offset += CHUNK) {
      const end = Math.min(bytes, offset + CHUNK);
      const answer = await fetch(`${base}/upload?id=${id}`, {
        method: 'PATCH',
        headers: { ...auth, 'upload-offset': String(offset), 'content-length': String(end - offset) },
        body: Readable.toWeb(createReadStream(source, { start: offset, end: end - 1 })) as ReadableStream,
        duplex: 'half',
      } as RequestInit);
      if (!answer.ok) throw new Error(`upload chunk at ${offset}: ${answer.status} ${await answer.text()}`);
      await answer.arrayBuffer();
    }
  });
  if ((await stat(join(volume, 'uploaded.bin'))).size !== bytes) throw new Error('upload incomplete');

  const download = await timed(async () => {
    const answer = await fetch(`${base}/file?path=uploaded.bin`, { headers: auth });
    if (!answer.ok || !answer.body) throw new Error(`download: ${answer.status}`);
    await pipeline(Readable.fromWeb(answer.body as never), createWriteStream(join(dir, 'downloaded.bin')));
  });
  if ((await stat(join(dir, 'downloaded.bin')).then((info) => info.size)) !== bytes)
    throw new Error('download incomplete');

  const mbps = (seconds: number) => Math.round((bytes / MIB / seconds) * 10) / 10;
  const result = {
    date: new Date().toISOString(),
    fileMiB: bytes / MIB,
    chunkMiB: CHUNK / MIB,
    load: (await import('node:os')).loadavg().map((value) => Math.round(value * 10) / 10),
    cp: { seconds: cpCopy, mibPerSecond: mbps(cpCopy) },
    upload: {
      seconds: upload,
      mibPerSecond: mbps(upload),
      ratioToCp: Math.round((cpCopy / upload) * 100) / 100,
    },
    download: {
      seconds: download,
      mibPerSecond: mbps(download),
      ratioToCp: Math.round((cpCopy / download) * 100) / 100,
    },
  };
  console.log(JSON.stringify(result, null, 2));
  console.log(
    `upload ${result.upload.mibPerSecond} MiB/s = ${result.upload.ratioToCp}x cp; download ${result.download.mibPerSecond} MiB/s = ${result.download.ratioToCp}x cp (cp ${result.cp.mibPerSecond} MiB/s)`,
  );
  const out = new URL('../results/', import.meta.url);
  await writeFile(new URL('volumes.json', out), `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await gateway.close();
  await rm(dir, { recursive: true, force: true });
}
