'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useId, useState } from 'react';
import { formatDateTime } from '../../lib/format.ts';
import { hasRole } from '../../lib/roles.ts';
import type { RouterOutputs } from '../../lib/router-types.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { Dialog } from '../dialog.tsx';
import { CodeChips, EditDefinitionForm, NewDefinitionCard } from './definition-list.tsx';
import { DefinitionManager } from './definition-manager.tsx';
import { ImageBuildLog } from './image-build-log.tsx';
import { useWorkspace } from './workspace-context.tsx';

type Image = RouterOutputs['image']['list'][number];

/** One package a line (or separated by commas or spaces); `#` starts a comment. */
function packagesOf(text: string): string[] {
  return text
    .split(/[\n,]+/)
    .map((line) => line.replace(/#.*$/, '').trim())
    .flatMap((line) => (/[<>=!~]/.test(line) ? [line] : line.split(/\s+/)))
    .filter(Boolean);
}

function formatBytes(bytes: number | null): string {
  if (bytes === null) return '—';
  if (bytes < 1024 * 1024) return `${Math.max(1, Math.round(bytes / 1024))} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

const STATE_LABEL: Record<Image['state'], string> = {
  building: 'Building',
  ready: 'Ready',
  failed: 'Failed',
};

function PackageFields(props: {
  debian: string;
  python: string;
  onDebian(value: string): void;
  onPython(value: string): void;
}) {
  const id = useId();
  return (
    <>
      <div className="field">
        <label htmlFor={`${id}-debian`}>Debian packages</label>
        <textarea
          id={`${id}-debian`}
          className="input mono"
          rows={3}
          placeholder="e.g. cowsay"
          aria-describedby={`${id}-debian-hint`}
          value={props.debian}
          onChange={(e) => props.onDebian(e.target.value)}
        />
        <span id={`${id}-debian-hint`} className="hint">
          From this server's Debian package sources; one a line.
        </span>
      </div>
      <div className="field">
        <label htmlFor={`${id}-python`}>Python packages</label>
        <textarea
          id={`${id}-python`}
          className="input mono"
          rows={3}
          placeholder="e.g. rich==13.7.1"
          aria-describedby={`${id}-python-hint`}
          value={props.python}
          onChange={(e) => props.onPython(e.target.value)}
        />
        <span id={`${id}-python-hint`} className="hint">
          Installed with pip from the package index the operator configured; one a line.
        </span>
      </div>
    </>
  );
}

function EditImage(props: { workspaceId: string; image: Image; onDone(): void }) {
  const trpc = useTRPC();
  const [debian, setDebian] = useState(props.image.debian.join('\n'));
  const [python, setPython] = useState(props.image.python.join('\n'));
  const update = useMutation(trpc.image.update.mutationOptions({ onSuccess: props.onDone }));
  return (
    <EditDefinitionForm
      note="The new packages build now; kernels keep the last image that built until this one is ready."
      mutation={update}
      submitLabel="Save and build"
      onCancel={props.onDone}
      onSubmit={() =>
        update.mutate({
          workspaceId: props.workspaceId,
          imageId: props.image.id,
          debian: packagesOf(debian),
          python: packagesOf(python),
        })
      }
    >
      <PackageFields debian={debian} python={python} onDebian={setDebian} onPython={setPython} />
    </EditDefinitionForm>
  );
}

/** The workspace's images: editors define and rebuild them and watch builds; everyone sees them. */
export function ImagesManager() {
  const { workspace } = useWorkspace();
  const workspaceId = workspace.id;
  const canEdit = hasRole(workspace.role, 'EDITOR');
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const images = useQuery(trpc.image.list.queryOptions({ workspaceId }));
  const [name, setName] = useState('');
  const [debian, setDebian] = useState('');
  const [python, setPython] = useState('');
  const [watching, setWatching] = useState<Image | null>(null);
  const refresh = useCallback(
    () => queryClient.invalidateQueries({ queryKey: trpc.image.list.queryKey({ workspaceId }) }),
    [queryClient, trpc, workspaceId],
  );
  const create = useMutation(
    trpc.image.create.mutationOptions({
      onSuccess: async (image) => {
        setName('');
        setDebian('');
        setPython('');
        await refresh();
        setWatching(image);
      },
    }),
  );
  const rebuild = useMutation(
    trpc.image.rebuild.mutationOptions({
      onSuccess: async (image) => {
        await refresh();
        setWatching(image);
      },
    }),
  );

  return (
    <>
      <p className="muted">
        An image is Kiln's base image plus the Debian and Python packages you list. It is built once on the
        server (the build may use the network; kernels still have none) and picked per notebook in the machine
        menu.
      </p>
      {canEdit ? (
        <NewDefinitionCard
          noun="image"
          nameLabel="Image name"
          name={name}
          onName={setName}
          mutation={create}
          submitLabel="Build image"
          pendingLabel="Starting…"
          onSubmit={() =>
            create.mutate({
              workspaceId,
              name: name.trim(),
              debian: packagesOf(debian),
              python: packagesOf(python),
            })
          }
        >
          <PackageFields debian={debian} python={python} onDebian={setDebian} onPython={setPython} />
        </NewDefinitionCard>
      ) : (
        <p className="muted small">Editors, admins and owners can define images.</p>
      )}

      <DefinitionManager
        noun="image"
        label="Images"
        list={images}
        error={images.error ?? rebuild.error}
        empty="No images yet."
        head={
          <>
            <th scope="col">Name</th>
            <th scope="col">Packages</th>
            <th scope="col">State</th>
            <th scope="col">Adds</th>
            <th scope="col">Built</th>
          </>
        }
        cells={(image) => (
          <>
            <td>{image.name}</td>
            <td className="small">
              <CodeChips names={[...image.debian, ...image.python]} />
            </td>
            <td>
              <span data-testid={`image-state-${image.name}`}>{STATE_LABEL[image.state]}</span>
              {image.state === 'failed' && image.error ? (
                <div className="small field-error">{image.error}</div>
              ) : null}
              {image.state !== 'ready' && image.usable ? (
                <div className="small muted">Kernels use the previous build</div>
              ) : null}
            </td>
            <td className="nowrap">{formatBytes(image.sizeBytes)}</td>
            <td className="muted nowrap">{image.builtAt ? formatDateTime(image.builtAt) : '—'}</td>
          </>
        )}
        canManage={canEdit}
        actions={(image) => (
          <>
            <button
              type="button"
              className="btn btn-small"
              aria-label={`Build log of ${image.name}`}
              onClick={() => setWatching(image)}
            >
              Log
            </button>{' '}
          </>
        )}
        managerActions={(image) => (
          <>
            <button
              type="button"
              className="btn btn-small"
              aria-label={`Rebuild image ${image.name}`}
              disabled={image.state === 'building' || rebuild.isPending}
              onClick={() => rebuild.mutate({ workspaceId, imageId: image.id })}
            >
              Rebuild
            </button>{' '}
          </>
        )}
        refresh={refresh}
        edit={(image, done) => (
          <EditImage
            workspaceId={workspaceId}
            image={image}
            onDone={() => {
              done();
              setWatching(image);
            }}
          />
        )}
        deleteOptions={(callbacks) => trpc.image.delete.mutationOptions(callbacks)}
        deleteInput={(image) => ({ workspaceId, imageId: image.id })}
        deleteNote={(name) => (
          <p>
            Notebooks on <strong>{name}</strong> go back to Kiln's base image when their kernel next starts.
          </p>
        )}
      />
      <Dialog
        open={watching !== null}
        title={`Build of ${watching?.name ?? ''}`}
        onClose={() => setWatching(null)}
      >
        {watching ? (
          <>
            <ImageBuildLog workspaceId={workspaceId} imageId={watching.id} onFinished={refresh} />
            <div className="dialog-actions">
              <button type="button" className="btn" onClick={() => setWatching(null)}>
                Close
              </button>
            </div>
          </>
        ) : null}
      </Dialog>
    </>
  );
}
