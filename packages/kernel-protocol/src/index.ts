export { DEFAULT_JSON_BOUNDS, type JsonBounds, jsonBoundsViolation } from './json-bounds.ts';
export {
  buildMessage,
  createMessage,
  errorReply,
  errorText,
  GATEWAY_SESSION,
  KILN_ACK,
  KNOWN_REQUESTS,
  messageSize,
  OUTPUT_TYPES,
  replyType,
} from './messages.ts';
export { rawContent, setLazyContent, streamContentJson } from './raw-content.ts';
export type {
  ExecutionState,
  HibernationState,
  JupyterMessage,
  KernelModel,
  ResourceRequest,
  VolumeMountSpec,
} from './types.ts';
export {
  decodeLegacy,
  decodeV1,
  encodeLegacy,
  encodeLegacyFrame,
  encodeV1,
  type LegacyFrame,
  V1_PROTOCOL,
  validateMessage,
  WireError,
} from './wire-protocol.ts';
