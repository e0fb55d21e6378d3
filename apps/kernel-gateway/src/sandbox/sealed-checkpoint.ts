import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, open, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

const IV_BYTES = 12;
const TAG_BYTES = 16;
/**
 * Read and write in 1 MiB pieces: the streams' 64 KiB default made sealing and unsealing a ~100 MB image
 * cost ~1.7x the CPU (threadpool round trips and cipher calls per piece), on the path of every wake.
 */
const CHUNK = { highWaterMark: 1024 * 1024 };

/**
 * A hibernated kernel's checkpoint, encrypted at rest. The image holds the kernel's whole memory
 * (secret values from its environment, and whatever the notebook computed from them), so runsc writes
 * it into memory-backed scratch space only, and what lands on disk is AES-256-GCM under a random key
 * per image: a copy of the disk, a backup or another local user gets ciphertext. The key is kept in
 * the gateway's memory and, for re-adoption after a crash, in the sandbox's record only sealed under
 * the gateway's secret (env-seal.ts).
 */
export interface SealedCheckpoint {
  dir: string;
  key: Buffer;
}

/** Encrypts every file of `plainDir` into `sealedDir` (root-only) and removes `plainDir`. */
export async function sealCheckpoint(plainDir: string, sealedDir: string): Promise<SealedCheckpoint> {
  const key = randomBytes(32);
  await rm(sealedDir, { recursive: true, force: true });
  await mkdir(sealedDir, { recursive: true, mode: 0o700 });
  await chmod(sealedDir, 0o700);
  try {
    for (const name of await readdir(plainDir)) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      // The file name is authenticated too, so sealed files cannot be swapped for one another.
      cipher.setAAD(Buffer.from(name));
      const out = createWriteStream(join(sealedDir, name), { mode: 0o600, ...CHUNK });
      out.write(iv);
      await pipeline(createReadStream(join(plainDir, name), CHUNK), cipher, out, { end: false });
      await new Promise<void>((resolve, reject) => {
        out.once('error', reject);
        out.end(cipher.getAuthTag(), resolve);
      });
    }
  } finally {
    await rm(plainDir, { recursive: true, force: true });
  }
  return { dir: sealedDir, key };
}

/** Decrypts a sealed checkpoint into `plainDir` (root-only); fails if any file was altered. */
export async function unsealCheckpoint(sealed: SealedCheckpoint, plainDir: string): Promise<void> {
  await mkdir(plainDir, { recursive: true, mode: 0o700 });
  await chmod(plainDir, 0o700);
  for (const name of await readdir(sealed.dir)) {
    const path = join(sealed.dir, name);
    const file = await open(path, 'r');
    let iv: Buffer;
    let tag: Buffer;
    let size: number;
    try {
      size = (await file.stat()).size;
      if (size < IV_BYTES + TAG_BYTES) throw new Error(`sealed checkpoint file ${name} is truncated`);
      iv = Buffer.alloc(IV_BYTES);
      tag = Buffer.alloc(TAG_BYTES);
      await file.read(iv, 0, IV_BYTES, 0);
      await file.read(tag, 0, TAG_BYTES, size - TAG_BYTES);
    } finally {
      await file.close();
    }
    const decipher = createDecipheriv('aes-256-gcm', sealed.key, iv);
    decipher.setAAD(Buffer.from(name));
    decipher.setAuthTag(tag);
    const target = join(plainDir, name);
    if (size === IV_BYTES + TAG_BYTES) {
      decipher.final();
      await writeFile(target, '', { mode: 0o600 });
      continue;
    }
    await pipeline(
      createReadStream(path, { start: IV_BYTES, end: size - TAG_BYTES - 1, ...CHUNK }),
      decipher,
      createWriteStream(target, { mode: 0o600, ...CHUNK }),
    );
  }
}
