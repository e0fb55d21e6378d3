'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { formatDateTime } from '../../lib/format.ts';
import { hasRole } from '../../lib/roles.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { ConfirmDialog } from '../confirm-dialog.tsx';
import { ErrorAlert, Loading } from '../status.tsx';
import { useWorkspace } from '../workspace/workspace-context.tsx';
import { callExamples, formatMachine, formatMs, formatNanoDollars } from './endpoint-format.ts';
import { EndpointSchedules } from './endpoint-schedules.tsx';
import { EndpointSettingsForm } from './endpoint-settings.tsx';
import { EndpointTokens } from './endpoint-tokens.tsx';
import { EndpointVersions } from './endpoint-versions.tsx';

/** One endpoint: how to call it, its replicas and recent calls with latency and cost, versions, tokens. */
export function EndpointPage({ endpointId }: { endpointId: string }) {
  const { workspace } = useWorkspace();
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const canEdit = hasRole(workspace.role, 'EDITOR');
  const input = { workspaceId: workspace.id, endpointId };
  const page = useQuery({ ...trpc.endpoint.get.queryOptions(input), refetchInterval: 3000 });
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.endpoint.get.queryKey(input) });
  const update = useMutation(trpc.endpoint.update.mutationOptions({ onSuccess: refresh }));
  const remove = useMutation(
    trpc.endpoint.delete.mutationOptions({ onSuccess: () => router.push(`/w/${workspace.slug}/endpoints`) }),
  );
  const [deleting, setDeleting] = useState(false);
  const [origin, setOrigin] = useState('');
  useEffect(() => setOrigin(window.location.origin), []);

  if (page.isPending) return <Loading />;
  if (page.error) return <ErrorAlert error={page.error} />;
  const { endpoint, versions, tokens, requests, stats, replicas, path } = page.data;
  const live = versions.find((v) => v.live);
  const url = `${origin}${path}`;
  const examples = callExamples(url, endpoint.settings.public, JSON.stringify(live?.sampleInput ?? {}));
  return (
    <>
      <div className="page-title">
        <h1>{endpoint.label}</h1>
        {canEdit ? (
          <button type="button" className="btn btn-danger" onClick={() => setDeleting(true)}>
            Delete endpoint
          </button>
        ) : null}
      </div>
      <p>
        <code>{path}</code> · {live ? `v${live.number} live (${live.functionName})` : 'no live version'} ·{' '}
        {endpoint.settings.public ? 'public' : 'needs a token'}
      </p>
      <ErrorAlert error={update.error ?? remove.error} />
      {canEdit ? (
        <label className="row small">
          <input
            type="checkbox"
            checked={endpoint.settings.public}
            onChange={(e) => update.mutate({ ...input, settings: { public: e.target.checked } })}
          />{' '}
          Public: anyone with the URL may call it
        </label>
      ) : null}

      <section className="usage-cards" aria-label="Last 24 hours">
        <div className="card">
          <div className="muted small">Requests (24 h)</div>
          <strong>{stats.count}</strong> <span className="muted small">{stats.errors} 5xx</span>
        </div>
        <div className="card">
          <div className="muted small">Latency p50 / p99</div>
          <strong>
            {formatMs(stats.p50Ms)} / {formatMs(stats.p99Ms)}
          </strong>
        </div>
        <div className="card">
          <div className="muted small">Cost per request</div>
          <strong>{formatNanoDollars(stats.costPerRequestNanos)}</strong>
        </div>
        <div className="card">
          <div className="muted small">Live replicas</div>
          <strong>{replicas.length}</strong>
        </div>
        <section className="card" aria-label="Machine">
          <div className="muted small">Machine{live ? ` (v${live.number})` : ''}</div>
          <strong>
            {formatMachine({
              cpu: endpoint.settings.cpu,
              memoryMiB: endpoint.settings.memoryMiB,
              gpu: endpoint.settings.gpu,
              image: live?.sandbox.image?.name ?? null,
            })}
          </strong>
        </section>
      </section>

      <section className="card" aria-labelledby="call-heading">
        <h2 id="call-heading">Call it</h2>
        <p className="muted small">
          POST a JSON object of keyword arguments, or GET with query parameters. Timeout{' '}
          {endpoint.settings.timeoutSeconds} s; replicas {endpoint.settings.minReplicas}–
          {endpoint.settings.maxReplicas}, scale down after {endpoint.settings.scaleDownSeconds} s idle.
        </p>
        <figure aria-label="curl example">
          <pre className="mono endpoint-source">{examples.curl}</pre>
        </figure>
        <figure aria-label="Python example">
          <pre className="mono endpoint-source">{examples.python}</pre>
        </figure>
      </section>

      <EndpointSettingsForm
        workspaceId={workspace.id}
        endpointId={endpointId}
        settings={endpoint.settings}
        canEdit={canEdit}
        onSaved={refresh}
      />

      {replicas.length > 0 ? (
        <section className="card" aria-labelledby="replicas-heading">
          <h2 id="replicas-heading">Replicas</h2>
          <table className="table" aria-label="Replicas">
            <thead>
              <tr>
                <th scope="col">Replica</th>
                <th scope="col">State</th>
                <th scope="col">Started</th>
                <th scope="col">Calls</th>
                <th scope="col">Machine</th>
              </tr>
            </thead>
            <tbody>
              {replicas.map((replica) => (
                <tr key={replica.id}>
                  <td className="mono small">{replica.id.slice(0, 8)}</td>
                  <td>{replica.state}</td>
                  <td className="muted nowrap">
                    {formatDateTime(replica.startedAt)} ({replica.startedFrom ?? 'starting'})
                  </td>
                  <td>{replica.calls}</td>
                  <td className="small">{formatMachine(replica.machine)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ) : null}

      <section className="card" aria-labelledby="requests-heading">
        <h2 id="requests-heading">Recent requests</h2>
        {requests.length === 0 ? <p className="muted small">No requests yet.</p> : null}
        {requests.length > 0 ? (
          <table className="table" aria-label="Recent requests">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Method</th>
                <th scope="col">Status</th>
                <th scope="col">Latency</th>
                <th scope="col">Cost</th>
                <th scope="col">Replica</th>
                <th scope="col">Request id</th>
              </tr>
            </thead>
            <tbody>
              {requests.map((request) => (
                <tr key={request.id} title={request.error ?? undefined}>
                  <td className="muted nowrap">{formatDateTime(request.at)}</td>
                  <td>{request.method}</td>
                  <td>{request.status}</td>
                  <td>{formatMs(request.latencyMs)}</td>
                  <td>{formatNanoDollars(request.costNanos)}</td>
                  <td className="mono small">{request.replicaId?.slice(0, 8) ?? '—'}</td>
                  <td className="mono small">{request.id}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>

      <EndpointVersions
        workspaceId={workspace.id}
        endpointId={endpointId}
        versions={versions}
        canEdit={canEdit}
        onChange={refresh}
      />
      <EndpointSchedules
        workspaceId={workspace.id}
        endpointId={endpointId}
        canEdit={canEdit}
        sampleInput={live?.sampleInput}
      />
      <EndpointTokens
        workspaceId={workspace.id}
        endpointId={endpointId}
        tokens={tokens}
        canEdit={canEdit}
        onChange={refresh}
      />
      <ConfirmDialog
        open={deleting}
        title={`Delete endpoint ${endpoint.label}?`}
        confirmLabel="Delete endpoint"
        onConfirm={() => remove.mutate(input)}
        onClose={() => setDeleting(false)}
      >
        Its URL stops answering at once; versions, tokens and the request log go with it.
      </ConfirmDialog>
    </>
  );
}
