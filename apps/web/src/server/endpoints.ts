import { resolve } from 'node:path';
import type { EndpointServices } from '@kiln/api';
import type { Db } from '@kiln/db';
import {
  createEndpointRuntime,
  createKernelReplicaHost,
  runscPython,
  unavailableReplicaHost,
} from '@kiln/endpoints';
import { createEndpointHandler } from '@kiln/endpoints/serve';
import type { Scheduler } from '@kiln/scheduler';
import type { SecretsVault } from '@kiln/secrets';
import type { Volumes } from '@kiln/volumes';
import type { Env } from '../env.ts';

/**
 * This process's web endpoints: replicas on the scheduler's nodes (when a gateway secret is set) with
 * their versions' secrets (from the vault, when a key is set) and volumes, dependency capture in
 * throwaway runsc sandboxes, the `/e/...` handler, and hourly log pruning.
 */
export function createWebEndpoints(
  db: Db,
  scheduler: Scheduler,
  env: Env,
  sandbox: { secrets?: SecretsVault; volumes: Volumes },
) {
  const host = env.kernelGateway
    ? createKernelReplicaHost({
        scheduler,
        secret: env.kernelGateway.secret,
        secrets: sandbox.secrets,
        volumes: sandbox.volumes,
      })
    : unavailableReplicaHost(
        'No kernel gateway is configured (set KILN_GATEWAY_TOKEN), so no replica can start',
      );
  const runtime = createEndpointRuntime({ db, host });
  const services: EndpointServices = {
    runtime,
    capture: runscPython({ runscPath: env.endpoints.runscPath, rootDir: resolve(env.endpoints.captureDir) }),
  };
  const handler = createEndpointHandler({ runtime, maxBodyBytes: env.endpoints.maxBodyBytes });
  const prune = setInterval(() => {
    runtime.log
      .prune()
      .catch((error: unknown) => console.error('pruning endpoint request logs failed', error));
  }, 3_600_000);
  prune.unref();
  return {
    services,
    handler,
    async close() {
      clearInterval(prune);
      await runtime.close();
    },
  };
}
