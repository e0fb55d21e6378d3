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
