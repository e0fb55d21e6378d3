import { CloseCode } from '@kiln/core';
import {
  decodeLegacy,
  decodeV1,
  encodeLegacyFrame,
  encodeV1,
  V1_PROTOCOL,
  WireError,
} from '@kiln/kernel-protocol';
import type { RawData, WebSocket } from 'ws';
import type { Kernel, KernelPeer } from './kernel.ts';

/** Close reasons are limited to 123 bytes by the websocket protocol. */
export function closeReason(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  return bytes.byteLength <= 123
    ? text
    : `${bytes
        .subarray(0, 120)
        .toString('utf8')
        .replace(/\uFFFD$/, '')}...`;
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Joins a kernel channels websocket to its kernel, in whichever framing the client negotiated. */
export function attachChannelsSocket(
  socket: WebSocket,
  kernel: Kernel,
  sessionId: string,
  ack?: KernelPeer['ack'],
): void {
  const v1 = socket.protocol === V1_PROTOCOL;
  const client: KernelPeer = {
    sessionId,
    ...(ack ? { ack } : {}),
    send(message) {
      if (socket.readyState !== socket.OPEN) return;
      let data: string | Buffer;
      let binary = true;
      try {
        if (v1) data = encodeV1(message);
        else ({ data, binary } = encodeLegacyFrame(message));
      } catch (error) {
        // One message that cannot be written must not reach the caller (a kernel's broadcast loop).
        console.error(
          `[kernel-gateway] kernel ${kernel.id}: could not encode a ${message.header.msg_type}:`,
          error,
        );
        return;
      }
      socket.send(data, { binary });
    },
    close(code, reason) {
      socket.close(code, closeReason(reason));
    },
  };
  const peer = kernel.attach(client);
  socket.on('message', (data, isBinary) => {
    const frame = toBuffer(data);
    let message: ReturnType<typeof decodeV1>;
    try {
      message = v1 && isBinary ? decodeV1(frame) : decodeLegacy(frame, isBinary);
    } catch (error) {
      const text = error instanceof WireError ? error.message : 'Unreadable message';
      socket.close(CloseCode.invalidPayload, closeReason(`Malformed kernel message: ${text}`));
      return;
    }
    try {
      kernel.fromClient(peer, message);
    } catch (error) {
      // Contained to this socket: the gateway and the kernel's other clients carry on.
      console.error(`[kernel-gateway] kernel ${kernel.id}: a client message failed:`, error);
      socket.close(CloseCode.internalError, closeReason(`The gateway could not handle that message`));
    }
  });
  socket.on('close', () => kernel.detach(peer));
  socket.on('error', () => kernel.detach(peer));
}
