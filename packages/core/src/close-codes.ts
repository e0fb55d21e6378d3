/** Websocket close codes shared by the Yjs rooms and the kernel channels (4xxx mirrors HTTP). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  unsupportedData: 1003,
  invalidPayload: 1007,
  policyViolation: 1008,
  messageTooBig: 1009,
  internalError: 1011,
  /** The server cannot serve now (its database is unreachable): reconnect later, with backoff. */
  tryAgainLater: 1013,
  /** The user's access changed (role, membership): reconnect and authenticate again. */
  accessChanged: 4000,
  badRequest: 4400,
  unauthenticated: 4401,
  forbidden: 4403,
  notFound: 4404,
  kernelDead: 4409,
  tooManyConnections: 4429,
} as const;

export type CloseCodeName = keyof typeof CloseCode;

/**
 * Kiln's one addition to the y-websocket wire format, sent only to clients that ask for it with
 * `?acks=stored`: `[STORED_MESSAGE_TYPE, n]` (varuints) says the first `n` document-update messages
 * this socket sent are stored, so the client can say "Saved" only for what the database holds.
 */
export const STORED_MESSAGE_TYPE = 100;
