'use client';
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { formatDateTime } from '../../lib/format.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { ErrorAlert, Loading } from '../status.tsx';
import { useWorkspace } from '../workspace/workspace-context.tsx';

/** The workspace's endpoints; each links to its page. New ones come from a notebook cell's Deploy. */
export function EndpointList() {
  const { workspace } = useWorkspace();
  const trpc = useTRPC();
  const endpoints = useQuery(trpc.endpoint.list.queryOptions({ workspaceId: workspace.id }));
  return (
    <>
      <p className="muted">
        A function in a notebook becomes an HTTPS endpoint with the rocket button on its cell ("Deploy as
        endpoint"). Each deploy is a version, smoke-tested before it serves.
      </p>
      {endpoints.isPending ? <Loading /> : null}
      <ErrorAlert error={endpoints.error} />
      {endpoints.data?.length === 0 ? <div className="empty">No endpoints yet.</div> : null}
      {endpoints.data && endpoints.data.length > 0 ? (
        <table className="table" aria-label="Endpoints">
          <thead>
            <tr>
              <th scope="col">Label</th>
              <th scope="col">URL</th>
              <th scope="col">Access</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {endpoints.data.map((endpoint) => (
              <tr key={endpoint.id}>
                <td>
                  <Link href={`/w/${workspace.slug}/endpoints/${endpoint.id}`}>{endpoint.label}</Link>
                </td>
                <td>
                  <code>
                    /e/{workspace.slug}/{endpoint.label}
                  </code>
                </td>
                <td>{endpoint.settings.public ? 'public' : 'token'}</td>
                <td className="muted nowrap">{formatDateTime(endpoint.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
}
