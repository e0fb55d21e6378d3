import { timingSafeEqual } from 'node:crypto';
import { chmod, readdir } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join } from 'node:path';

/**
 * PGlite answers every startup message with AuthenticationOk, so anyone on the host could connect.
 * This gate sits in front of its socket handler: it answers the SSL request, asks for the password
 * (cleartext, as Postgres's `password` method does; the server listens on loopback), checks it, and
 * only then connects the client to PGlite, which listens on a socket in a private folder.
 */
const SSL_REQUEST = 80877103;
const PROTOCOL_3 = 196608;

function errorResponse(message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C28P01\0M${message}\0\0`, 'utf8');
  const out = Buffer.alloc(5 + fields.length);
  out.write('E', 0, 'latin1');
  out.writeInt32BE(4 + fields.length, 1);
  fields.copy(out, 5);
  return out;
}

const ASK_PASSWORD = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3]);

function same(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Authenticates `socket` with `password`, then calls `admit` with the bytes PGlite must see first. */
export function gateConnection(
  socket: Socket,
  password: string,
  admit: (socket: Socket, pending: Buffer) => void,
): void {
  let buffer = Buffer.alloc(0);
  let startup: Buffer | null = null;
  const refuse = (message: string) => {
    socket.end(errorResponse(message));
  };
  const onData = (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    if (buffer.length > 64 * 1024) return refuse('startup too large');
    while (buffer.length >= 8 && startup === null) {
      const length = buffer.readInt32BE(0);
      if (length < 8 || length > 10_000) return refuse('invalid startup packet');
      if (buffer.length < length) return;
      const code = buffer.readInt32BE(4);
      const packet = buffer.subarray(0, length);
      buffer = buffer.subarray(length);
      if (code === SSL_REQUEST) socket.write('N');
      else if (code === PROTOCOL_3) {
        startup = Buffer.from(packet);
        socket.write(ASK_PASSWORD);
      } else return refuse('unsupported protocol');
    }
    if (startup === null || buffer.length < 5) return;
    const length = buffer.readInt32BE(1);
    if (buffer[0] !== 0x70 || length < 5 || length > 10_000) return refuse('expected a password message');
    if (buffer.length < 1 + length) return;
    const given = buffer
      .subarray(5, 1 + length)
      .toString('utf8')
      .replace(/\0$/, '');
    const rest = buffer.subarray(1 + length);
    if (!same(given, password)) return refuse('password authentication failed for user "postgres"');
    socket.off('data', onData);
    admit(socket, Buffer.concat([startup, rest]));
  };
  socket.on('data', onData);
  socket.on('error', () => socket.destroy());
}

/**
 * Makes `dir` and everything in it private to this user (0700 dirs, 0600 files): PGlite writes its
 * files world-writable, and the database holds every session hash and notebook.
 */
export async function restrictTree(dir: string): Promise<void> {
  await chmod(dir, 0o700);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await restrictTree(path);
    else if (entry.isFile()) await chmod(path, 0o600);
  }
}
