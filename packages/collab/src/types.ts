import type { IncomingMessage } from 'node:http';
import type * as Y from 'yjs';

/** Identifies a stored update row; increases with every append to one store. */
export type UpdateId = bigint;

/** What a room was loaded from: every stored update of the document, oldest first. */
export interface StoredDocument {
  updates: Uint8Array[];
  /** Id of the newest stored update, or null for a document never written. */
  lastId: UpdateId | null;
}

/**
 * Durable storage of one document's Yjs update log. Updates are CRDT operations, so their order on
 * load does not matter; what matters is that an appended update is never lost.
 */
export interface DocumentStore {
  load(name: string): Promise<StoredDocument>;
  /**
   * Stores `updates` as one row each in a single durable write (one commit for a whole batch);
   * resolves once they are durable, with the id of the last row.
   */
  append(name: string, updates: Uint8Array[]): Promise<UpdateId>;
  /**
   * Replaces every update with id <= `upToId` by `state`, atomically. `expectedRows` (the number of
   * rows <= `upToId` the caller has seen) guards against folding away rows written by another
   * process that `state` does not contain: on a mismatch nothing changes and this resolves null.
   * Otherwise it resolves with the id of the new state row.
   */
  compact(name: string, state: Uint8Array, upToId: UpdateId, expectedRows?: number): Promise<UpdateId | null>;
}

/** Who is on the other end of a connection, as `onAuthenticate` decided. */
export interface CollabUser {
  userId: string;
  name: string;
  /** Viewers receive the document and awareness and may send awareness, never document updates. */
  readOnly: boolean;
}

export interface OnAuthenticatePayload {
  request: IncomingMessage;
  documentName: string;
}

export interface OnLoadDocumentPayload {
  documentName: string;
  /** The document as stored; changes made here are stored before any client sees the document. */
  document: Y.Doc;
  /** True when the store held no update for this document. */
  isNew: boolean;
}

export interface OnChangePayload {
  documentName: string;
  document: Y.Doc;
  /** What changed (the updates stored together in one write, as one update). */
  update: Uint8Array;
  /** The authors of the update; empty for changes made through `openDirectConnection`. */
  users: CollabUser[];
}

export interface AfterStorePayload {
  documentName: string;
  /** The updates stored together in one write. */
  updates: Uint8Array[];
  /** Id of the last of them. */
  id: UpdateId;
}

export interface OnErrorPayload {
  documentName: string | null;
  error: unknown;
  /** What the server was doing: 'authenticate', 'load', 'store', 'compact', 'hook', 'message'. */
  stage: string;
}

/** Options of `createCollabServer`; every field has a default (see `defaultConfiguration`). */
export interface Configuration {
  store: DocumentStore;
  /** Maps an upgrade request to a document name, or null to answer 404. Default: `/yjs/<name>`. */
  documentName(request: IncomingMessage): string | null;
  /**
   * Decides who may open a document. Return null (or throw a DomainError UNAUTHENTICATED) to close
   * with 4401, throw a DomainError FORBIDDEN to close with 4403 and NOT_FOUND for 4404; any other
   * error closes with 1011. The default lets nobody in.
   */
  onAuthenticate(payload: OnAuthenticatePayload): Promise<CollabUser | null> | CollabUser | null;
  /**
   * Runs once per load, before any client sees the document. Seed content only when `isNew`, and from
   * a Y.Doc with a fixed `clientID` (0), so that seeding the same content twice yields the same CRDT
   * history: content rebuilt under fresh client ids is what makes reconnecting clients duplicate cells.
   */
  onLoadDocument(payload: OnLoadDocumentPayload): Promise<void> | void;
  /** After an update is broadcast and stored; not awaited, errors go to `onError`. */
  onChange(payload: OnChangePayload): Promise<void> | void;
  /** After a batch of updates is durable, before their authors get their echo; not awaited. */
  afterStore(payload: AfterStorePayload): Promise<void> | void;
  onError(payload: OnErrorPayload): void;
  /** Largest websocket message accepted, in bytes; bigger ones close the socket with 1009. */
  maxMessageBytes: number;
  /** A room's update log is folded into one row once it holds more than this many rows. */
  compactAfterUpdates: number;
  /** How long an empty room stays in memory, so quick reconnects skip a reload. */
  unloadDelayMs: number;
  /** Interval of websocket pings; a socket that missed the previous pong is closed. */
  pingIntervalMs: number;
  /** Messages buffered per socket while it authenticates and its room loads. */
  maxPendingMessages: number;
  /**
   * Bytes queued to a socket that is not reading before it is dropped, so one stalled client
   * cannot grow the server's memory without bound; it resyncs when it reconnects.
   */
  maxBufferedBytes: number;
}

/** A room as `rooms()` reports it. */
export interface RoomInfo {
  documentName: string;
  connections: number;
  /** Rows in the store for this document, as far as this process knows. */
  storedUpdates: number;
}

/** A server-side handle on a live document, for writers such as the execution queue. */
export interface DirectConnection {
  document: Y.Doc;
  /** Runs `change` in a transaction, broadcast at once; resolves once the update is stored. */
  transact(change: (document: Y.Doc) => void): Promise<void>;
  disconnect(): Promise<void>;
}

/** What `createCollabServer` returns. */
export interface CollabServer {
  /** Takes over an HTTP upgrade request (`server.on('upgrade', collab.handleUpgrade)`). */
  handleUpgrade(request: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): void;
  openDirectConnection(documentName: string): Promise<DirectConnection>;
  /**
   * Closes every socket of a room (default 1001; 4404 for a deleted notebook, 4403 after a permission
   * change) and unloads it once its pending updates are stored.
   */
  closeRoom(documentName: string, close?: { code: number; reason: string }): Promise<void>;
  /**
   * Closes every connection of one user (default code: accessChanged, on which clients reconnect and
   * are authenticated again, e.g. read-only after a demotion). Returns how many were closed.
   */
  disconnectUser(userId: string, close?: { code: number; reason: string }): number;
  /** Closes every room and socket; pending updates are stored first. */
  close(): Promise<void>;
  rooms(): RoomInfo[];
}
