import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sealCheckpoint, unsealCheckpoint } from './sealed-checkpoint.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function checkpointDir(
  files: Record<string, Buffer | string>,
): Promise<{ root: string; plain: string }> {
  const root = await mkdtemp(join(tmpdir(), 'kiln-sealed-'));
  dirs.push(root);
  const plain = join(root, 'plain');
  await mkdir(plain);
  for (const [name, data] of Object.entries(files)) await writeFile(join(plain, name), data);
  return { root, plain };
}

describe('sealed checkpoints', () => {
  it('keeps no byte of the image in clear on disk and gives it back exactly', async () => {
    const secret = `TOKEN=kiln-${randomBytes(12).toString('hex')}`;
    const pages = Buffer.concat([randomBytes(3_000_000), Buffer.from(secret), randomBytes(1_000_001)]);
    const { root, plain } = await checkpointDir({ 'pages.img': pages, 'checkpoint.img': secret, empty: '' });
    const sealed = await sealCheckpoint(plain, join(root, 'sealed'));
    await expect(stat(plain)).rejects.toThrow();
    for (const name of await readdir(sealed.dir)) {
      const bytes = await readFile(join(sealed.dir, name));
      expect(bytes.includes(Buffer.from(secret)), name).toBe(false);
      expect((await stat(join(sealed.dir, name))).mode & 0o077).toBe(0);
    }
    const back = join(root, 'back');
    await unsealCheckpoint(sealed, back);
    expect((await readFile(join(back, 'pages.img'))).equals(pages)).toBe(true);
    expect(await readFile(join(back, 'checkpoint.img'), 'utf8')).toBe(secret);
    expect(await readFile(join(back, 'empty'), 'utf8')).toBe('');
  });

  it('refuses an image that was altered or sealed under another key', async () => {
    const { root, plain } = await checkpointDir({ 'pages.img': randomBytes(100_000) });
    const sealed = await sealCheckpoint(plain, join(root, 'sealed'));
    const path = join(sealed.dir, 'pages.img');
    const bytes = await readFile(path);
    bytes[50_000] = (bytes[50_000] ?? 0) ^ 1;
    await writeFile(path, bytes);
    await expect(unsealCheckpoint(sealed, join(root, 'a'))).rejects.toThrow();
    bytes[50_000] = (bytes[50_000] ?? 0) ^ 1;
    await writeFile(path, bytes);
    await expect(unsealCheckpoint({ ...sealed, key: randomBytes(32) }, join(root, 'b'))).rejects.toThrow();
    await unsealCheckpoint(sealed, join(root, 'c'));
  });
});
