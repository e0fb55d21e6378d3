import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/** Handles one websocket upgrade; `rest` is the path after the route's prefix. */
export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer, rest: string) => void;

/** Routes HTTP `upgrade` events by path prefix; anything unrouted is refused with a plain 404. */
export interface UpgradeRouter {
  route(prefix: string, handler: UpgradeHandler): void;
  handle(request: IncomingMessage, socket: Duplex, head: Buffer): void;
}

export function createUpgradeRouter(): UpgradeRouter {
  const routes: Array<{ prefix: string; handler: UpgradeHandler }> = [];
  return {
    route(prefix, handler) {
      routes.push({ prefix: prefix.endsWith('/') ? prefix : `${prefix}/`, handler });
    },
    handle(request, socket, head) {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      const match = routes.find((r) => path.startsWith(r.prefix) && path.length > r.prefix.length);
      if (!match) {
        refuseUpgrade(socket, 404, 'Not Found');
        return;
      }
      match.handler(request, socket, head, path.slice(match.prefix.length));
    },
  };
}

/** Answers an upgrade with a plain HTTP error and closes the socket. */
export function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`,
    );
  }
  socket.destroy();
}
