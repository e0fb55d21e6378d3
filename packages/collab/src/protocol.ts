import { STORED_MESSAGE_TYPE } from '@kiln/core';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as authProtocol from 'y-protocols/auth';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as Y from 'yjs';

// The y-websocket wire format: every message starts with a varuint type.
export const MessageType = { sync: 0, awareness: 1, auth: 2, queryAwareness: 3 } as const;
// Second varuint of a sync message (y-protocols/sync).
export const SyncType = { step1: 0, step2: 1, update: 2 } as const;

/** A decoded client message. Document updates are validated (fully decoded) before they get here. */
export type ClientMessage =
  | { type: 'syncStep1'; stateVector: Uint8Array }
  | { type: 'update'; update: Uint8Array; decoded: DecodedUpdate }
  | { type: 'awareness'; update: Uint8Array }
  | { type: 'queryAwareness' }
  | { type: 'ignored' };

type DecodedUpdate = ReturnType<typeof Y.decodeUpdate>;

/** Thrown for bytes that are not a y-websocket message; the socket is closed with `closeCode`. */
export class ProtocolError extends Error {
  constructor(
    message: string,
    readonly closeCode: number,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** Parses one websocket message; throws ProtocolError on anything a stock client would not send. */
export function decodeClientMessage(message: Uint8Array, invalidCode: number): ClientMessage {
  try {
    const decoder = decoding.createDecoder(message);
    const type = decoding.readVarUint(decoder);
    let parsed: ClientMessage;
    switch (type) {
      case MessageType.sync: {
        const syncType = decoding.readVarUint(decoder);
        const payload = decoding.readVarUint8Array(decoder);
        if (syncType === SyncType.step1) {
          Y.decodeStateVector(payload);
          parsed = { type: 'syncStep1', stateVector: payload };
        } else if (syncType === SyncType.step2 || syncType === SyncType.update) {
          parsed = { type: 'update', update: payload, decoded: Y.decodeUpdate(payload) };
        } else {
          throw new Error(`unknown sync message type ${syncType}`);
        }
        break;
      }
      case MessageType.awareness: {
        const update = decoding.readVarUint8Array(decoder);
        parsed = { type: 'awareness', update };
        break;
      }
      case MessageType.queryAwareness:
        parsed = { type: 'queryAwareness' };
        break;
      // Clients only ever receive auth messages; one sent to us carries nothing to act on.
      case MessageType.auth:
        parsed = { type: 'ignored' };
        break;
      default:
        throw new Error(`unknown message type ${type}`);
    }
    if (decoding.hasContent(decoder)) throw new Error('trailing bytes after the message');
    return parsed;
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    throw new ProtocolError(`malformed message: ${(error as Error).message}`, invalidCode);
  }
}

/**
 * Whether applying `decoded` would change `doc`: it carries a struct the doc has not seen or deletes
 * something the doc still has. A synced client's sync step 2 always repeats its whole delete set, so
 * this is what tells a viewer's harmless reply from an edit.
 */
export function changesDocument(doc: Y.Doc, decoded: DecodedUpdate): boolean {
  for (const struct of decoded.structs) {
    if (struct instanceof Y.Skip) continue;
    if (struct.id.clock + struct.length > Y.getState(doc.store, struct.id.client)) return true;
  }
  for (const [client, ranges] of decoded.ds.clients) {
    const structs = doc.store.clients.get(client);
    const known = Y.getState(doc.store, client);
    for (const { clock, len } of ranges) {
      if (!structs || clock + len > known) return true;
      let index = Y.findIndexSS(structs, clock);
      for (let struct = structs[index]; struct && struct.id.clock < clock + len; struct = structs[++index]) {
        if (!struct.deleted) return true;
      }
    }
  }
  return false;
}

export function encodeSyncStep1(doc: Y.Doc): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MessageType.sync);
  encoding.writeVarUint(encoder, SyncType.step1);
  encoding.writeVarUint8Array(encoder, Y.encodeStateVector(doc));
  return encoding.toUint8Array(encoder);
}

export function encodeSyncStep2(doc: Y.Doc, stateVector: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MessageType.sync);
  encoding.writeVarUint(encoder, SyncType.step2);
  encoding.writeVarUint8Array(encoder, Y.encodeStateAsUpdate(doc, stateVector));
  return encoding.toUint8Array(encoder);
}

export function encodeUpdate(update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MessageType.sync);
  encoding.writeVarUint(encoder, SyncType.update);
  encoding.writeVarUint8Array(encoder, update);
  return encoding.toUint8Array(encoder);
}

/** Kiln's stored-acknowledgement: the first `count` update messages of this socket are stored. */
export function encodeStored(count: number): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, STORED_MESSAGE_TYPE);
  encoding.writeVarUint(encoder, count);
  return encoding.toUint8Array(encoder);
}

export function encodeAwareness(awareness: awarenessProtocol.Awareness, clients: number[]): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MessageType.awareness);
  encoding.writeVarUint8Array(encoder, awarenessProtocol.encodeAwarenessUpdate(awareness, clients));
  return encoding.toUint8Array(encoder);
}

/** The y-protocols auth message a WebsocketProvider reports as "Permission denied". */
export function encodePermissionDenied(reason: string): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MessageType.auth);
  authProtocol.writePermissionDenied(encoder, reason);
  return encoding.toUint8Array(encoder);
}
