'use client';
import { useInfiniteQuery } from '@tanstack/react-query';
import { ErrorAlert, Loading } from '../../../../components/status.tsx';
import { useWorkspace } from '../../../../components/workspace/workspace-context.tsx';
import { formatDateTime } from '../../../../lib/format.ts';
import { hasRole } from '../../../../lib/roles.ts';
import { useTRPC } from '../../../../lib/trpc.ts';

export default function AuditPage() {
  const { workspace } = useWorkspace();
  const trpc = useTRPC();
  const allowed = hasRole(workspace.role, 'ADMIN');
  const audit = useInfiniteQuery(
    trpc.audit.list.infiniteQueryOptions(
      { workspaceId: workspace.id },
      { enabled: allowed, getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
  );
  const items = audit.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <>
      <div className="page-title">
        <h1>Audit log</h1>
      </div>
      {!allowed ? (
        <div className="empty">Only admins and owners can see the audit log.</div>
      ) : (
        <>
          {audit.isPending ? <Loading /> : null}
          <ErrorAlert error={audit.error} />
          {audit.isSuccess && items.length === 0 ? <div className="empty">Nothing recorded yet.</div> : null}
          {items.length > 0 ? (
            <table className="table" aria-label="Audit log">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Who</th>
                  <th scope="col">Action</th>
                  <th scope="col">Target</th>
                </tr>
              </thead>
              <tbody>
                {items.map((item) => (
                  <tr key={item.id}>
                    <td className="muted nowrap">{formatDateTime(item.createdAt)}</td>
                    <td>
                      {item.actor ? (
                        <>
                          <div>{item.actor.name}</div>
                          <div className="muted small">{item.actor.email}</div>
                        </>
                      ) : (
                        'System'
                      )}
                    </td>
                    <td>
                      <code>{item.action}</code>
                    </td>
                    <td>{item.target ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
          {audit.hasNextPage ? (
            <div>
              <button
                type="button"
                className="btn"
                disabled={audit.isFetchingNextPage}
                onClick={() => void audit.fetchNextPage()}
              >
                {audit.isFetchingNextPage ? 'Loading…' : 'Load more'}
              </button>
            </div>
          ) : null}
        </>
      )}
    </>
  );
}
