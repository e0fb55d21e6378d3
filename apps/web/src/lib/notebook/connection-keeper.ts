import { STORED_MESSAGE_TYPE } from '@kiln/core';
import type { WebsocketProvider } from 'y-websocket';

/** Pass as the provider's `params`: the server then acknowledges what it stored. */
export const STORED_ACKS_PARAMS = { acks: 'stored' } as const;

export interface ConnectionKeeperOptions {
  /** Called when `saved` flips. */
  onSavedChange(saved: boolean): void;
  /** Close codes after which retrying cannot help (signed out, not found, forbidden). */
  finalCodes: ReadonlySet<number>;
  /** First reconnect delay and the cap, in milliseconds (each drawn with ±50% jitter). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A connection synced for this long counts as healthy: the next drop starts the backoff over. */
  healthyAfterMs?: number;
  random?: () => number;
}

/** What a keeper exposes; `dispose()` detaches it from the provider. */
export interface ConnectionKeeper {
  readonly saved: boolean;
  /** Reconnect attempts in a row that did not give a healthy connection. */
  readonly failures: number;
  dispose(): void;
}

/** lib0's varuint, read from the decoder the provider hands its message handlers. */
function readVarUint(decoder: { arr: Uint8Array; pos: number }): number {
  let value = 0;
  let factor = 1;
  while (decoder.pos < decoder.arr.length) {
    const byte = decoder.arr[decoder.pos++] as number;
    value += (byte & 0x7f) * factor;
    if (byte < 0x80) break;
    factor *= 128;
  }
  return value;
}

/** A y-websocket sync message carrying document content (sync step 2 or update). */
function isUpdateMessage(data: unknown): boolean {
  const bytes = data instanceof Uint8Array ? data : data instanceof ArrayBuffer ? new Uint8Array(data) : null;
  return bytes !== null && bytes[0] === 0 && (bytes[1] === 1 || bytes[1] === 2);
}

/**
 * Two things y-websocket lacks. "Saved" from the server's acknowledgement: the server counts the
 * update messages of each socket and says how many are stored; an edit is saved once the message
 * that carried it is counted (an edit made offline travels in the sync step 2 of the next socket).
 * Reconnects with exponential backoff and jitter that only a healthy connection resets (the stock
 * provider resets it on every open, so a server that accepts and then refuses is retried in a loop).
 */
export function keepConnection(
  provider: WebsocketProvider,
  options: ConnectionKeeperOptions,
): ConnectionKeeper {
  const base = options.baseDelayMs ?? 250;
  const max = options.maxDelayMs ?? 15_000;
  const healthyAfter = options.healthyAfterMs ?? 5000;
  const random = options.random ?? Math.random;
  let sent = 0;
  let acked = 0;
  /** The count of the update message that must be acknowledged; 0: nothing pending; Infinity: not sent yet. */
  let target = 0;
  let failures = 0;
  let syncedAt: number | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let saved = true;

  const update = () => {
    const next = target === 0;
    if (next === saved) return;
    saved = next;
    options.onSavedChange(saved);
  };

  const onStatus = ({ status }: { status: string }) => {
    if (status !== 'connecting') return;
    const socket = provider.ws;
    if (!socket) return;
    // A new socket: its counts start over, and what the last one did not get stored is resent.
    sent = 0;
    acked = 0;
    if (target !== 0) target = Number.POSITIVE_INFINITY;
    const send = socket.send.bind(socket);
    socket.send = (data) => {
      if (isUpdateMessage(data)) {
        sent++;
        if (target === Number.POSITIVE_INFINITY) target = sent;
      }
      send(data);
    };
  };

  const onLocalUpdate = (_update: Uint8Array, origin: unknown) => {
    if (origin === provider) return;
    // Connected: the provider's own handler (registered first) has just sent it as message `sent`.
    if (provider.wsconnected && target !== Number.POSITIVE_INFINITY) target = sent;
    else target = Number.POSITIVE_INFINITY;
    update();
  };

  provider.messageHandlers[STORED_MESSAGE_TYPE] = (_encoder, decoder) => {
    acked = Math.max(acked, readVarUint(decoder));
    if (target !== Number.POSITIVE_INFINITY && acked >= target) target = 0;
    update();
  };

  const onSync = (isSynced: boolean) => {
    if (isSynced) syncedAt = Date.now();
  };

  const onClose = (event: CloseEvent | null) => {
    if (event && options.finalCodes.has(event.code)) return;
    const healthy = syncedAt !== null && Date.now() - syncedAt >= healthyAfter;
    syncedAt = null;
    failures = healthy ? 0 : failures + 1;
    // The stock provider would retry on its own schedule; it skips the attempt while this is false.
    provider.shouldConnect = false;
    const delay = Math.min(max, base * 2 ** failures) * (0.5 + random());
    clearTimeout(timer);
    timer = setTimeout(() => provider.connect(), delay);
  };

  provider.on('status', onStatus);
  provider.on('sync', onSync);
  provider.on('connection-close', onClose);
  provider.doc.on('update', onLocalUpdate);
  // The provider may already have opened its first socket.
  onStatus({ status: 'connecting' });

  return {
    get saved() {
      return saved;
    },
    get failures() {
      return failures;
    },
    dispose() {
      clearTimeout(timer);
      provider.off('status', onStatus);
      provider.off('sync', onSync);
      provider.off('connection-close', onClose);
      provider.doc.off('update', onLocalUpdate);
    },
  };
}
