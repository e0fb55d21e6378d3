export { createCollabServer } from './collab-server.ts';
export { defaultConfiguration } from './configuration.ts';
export { createMemoryStore } from './memory-store.ts';
export type {
  AfterStorePayload,
  CollabServer,
  CollabUser,
  Configuration,
  DirectConnection,
  DocumentStore,
  OnAuthenticatePayload,
  OnChangePayload,
  OnErrorPayload,
  OnLoadDocumentPayload,
  RoomInfo,
  StoredDocument,
  UpdateId,
} from './types.ts';
export { isClientOrigin } from './yjs-room.ts';
