import { type EndpointStack, startEndpointStack } from '../../apps/web/src/server/endpoint-test-stack.ts';

/**
 * A gateway node, the scheduler and the endpoint runtime behind a real HTTP server, as the web app
 * runs them: the endpoints integration tests' stack, with the figures this benchmark has always
 * measured under (a calmer scheduler and node heartbeat than the tests', the handler's default body
 * limit, long keep-alive for the load client).
 */
export type Stack = EndpointStack;

export function startStack(): Promise<Stack> {
  return startEndpointStack({
    nodeId: 'bench-node',
    databaseConnections: 12,
    heartbeatTimeoutMs: 30_000,
    schedulerTickMs: 1000,
    gatewayHeartbeatSeconds: null,
    maxBodyBytes: 1024 * 1024,
    keepAliveTimeoutMs: 60_000,
  });
}
