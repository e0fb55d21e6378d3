'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { formatDateTime } from '../../lib/format.ts';
import type { RouterOutputs } from '../../lib/router-types.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { ErrorAlert } from '../status.tsx';

type Version = RouterOutputs['endpoint']['get']['versions'][number];

function Diff(props: { workspaceId: string; endpointId: string; from: string; to: string }) {
  const trpc = useTRPC();
  const diff = useQuery(
    trpc.endpoint.diff.queryOptions({
      workspaceId: props.workspaceId,
      endpointId: props.endpointId,
      fromVersionId: props.from,
      toVersionId: props.to,
    }),
  );
  if (diff.error) return <ErrorAlert error={diff.error} />;
  if (!diff.data) return null;
  return (
    <figure aria-label={`Changes from version ${diff.data.from} to ${diff.data.to}`}>
      <pre className="mono endpoint-source">
        {diff.data.lines.map((line, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: diff lines have no identity but their place.
          <div key={i} className={line.op === '+' ? 'diff-add' : line.op === '-' ? 'diff-del' : undefined}>
            {line.op} {line.text}
          </div>
        ))}
      </pre>
    </figure>
  );
}

/** "image probe · secrets weather · /vol/models (read-only)": what a version's replicas start with. */
function runsWith(sandbox: Version['sandbox']): string {
  const parts = [sandbox.image ? `image ${sandbox.image.name}` : 'base image'];
  if (sandbox.secrets.length > 0) parts.push(`secrets ${sandbox.secrets.map((s) => s.name).join(', ')}`);
  for (const volume of sandbox.volumes)
    parts.push(`/vol/${volume.name}${volume.readOnly ? ' (read-only)' : ''}`);
  return parts.join(' · ');
}

/** Versions, newest first: smoke test outcome, diff against the live one, one-click rollback. */
export function EndpointVersions(props: {
  workspaceId: string;
  endpointId: string;
  versions: Version[];
  canEdit: boolean;
  onChange(): void;
}) {
  const trpc = useTRPC();
  const [diffOf, setDiffOf] = useState<string | null>(null);
  const rollback = useMutation(trpc.endpoint.rollback.mutationOptions({ onSuccess: props.onChange }));
  const live = props.versions.find((v) => v.live);
  return (
    <section className="card" aria-labelledby="versions-heading">
      <h2 id="versions-heading">Versions</h2>
      <ErrorAlert error={rollback.error} />
      <table className="table" aria-label="Versions">
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Function</th>
            <th scope="col">Runs with</th>
            <th scope="col">Smoke test</th>
            <th scope="col">Deployed</th>
            <th scope="col" className="actions">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {props.versions.map((version) => (
            <tr key={version.id} aria-label={`Version ${version.number}`}>
              <td>
                v{version.number} {version.live ? <span className="badge">live</span> : null}
              </td>
              <td>
                <code>{version.functionName}</code>
              </td>
              <td className="small">{runsWith(version.sandbox)}</td>
              <td>
                {version.smoke.status}
                {version.smoke.error ? (
                  <details>
                    <summary>Python error</summary>
                    <pre className="mono endpoint-source">{version.smoke.error}</pre>
                  </details>
                ) : null}
              </td>
              <td className="muted nowrap">{formatDateTime(version.createdAt)}</td>
              <td className="actions nowrap">
                {live && !version.live ? (
                  <button
                    type="button"
                    className="btn btn-small"
                    onClick={() => setDiffOf(diffOf === version.id ? null : version.id)}
                  >
                    Diff with live
                  </button>
                ) : null}{' '}
                {props.canEdit && !version.live && version.smoke.status === 'passed' ? (
                  <button
                    type="button"
                    className="btn btn-small"
                    aria-label={`Roll back to version ${version.number}`}
                    disabled={rollback.isPending}
                    onClick={() =>
                      rollback.mutate({
                        workspaceId: props.workspaceId,
                        endpointId: props.endpointId,
                        versionId: version.id,
                      })
                    }
                  >
                    Roll back
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {diffOf && live ? (
        <Diff workspaceId={props.workspaceId} endpointId={props.endpointId} from={live.id} to={diffOf} />
      ) : null}
    </section>
  );
}
