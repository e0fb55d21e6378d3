'use client';
import { useQuery } from '@tanstack/react-query';
import { errorCode } from '../../lib/errors.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { ImageSelect } from '../notebook/image-select.tsx';
import { SecretChecklist } from '../notebook/notebook-secrets.tsx';
import { VolumeChecklist, type VolumeUse } from '../notebook/notebook-volumes.tsx';
import type { Workspace } from '../workspace/workspace-context.tsx';

/** What a deployed version's replicas run with besides their machine. */
export interface SandboxChoice {
  imageId: string | null;
  secretIds: string[];
  volumes: VolumeUse[];
}

/**
 * The notebook's (or function file's) machine, image, secrets and volumes: what a deploy starts from,
 * so the endpoint runs like the notebook it came from. `secrets` is false on a server without a
 * secrets key (nothing to choose); `defaults` is null while loading.
 */
export function useNotebookSandbox(workspace: Workspace, notebookId: string, enabled: boolean) {
  const trpc = useTRPC();
  const input = { workspaceId: workspace.id, notebookId };
  const notebook = useQuery({ ...trpc.notebook.get.queryOptions(input), enabled });
  const secrets = useQuery({ ...trpc.secret.forNotebook.queryOptions(input), enabled, retry: false });
  const volumes = useQuery({ ...trpc.volume.forNotebook.queryOptions(input), enabled });
  const noSecrets = errorCode(secrets.error) === 'PRECONDITION_FAILED';
  const resources = notebook.data?.resources;
  const defaults: (SandboxChoice & { machine: NonNullable<typeof resources> }) | null =
    resources && volumes.data && (secrets.data || noSecrets)
      ? {
          machine: resources,
          imageId: resources.image?.id ?? null,
          secretIds: secrets.data?.map((secret) => secret.id) ?? [],
          volumes: volumes.data.map(({ volumeId, readOnly }) => ({ volumeId, readOnly })),
        }
      : null;
  return { defaults, secrets: !noSecrets, error: notebook.error ?? volumes.error };
}

/** The deploy dialog's image, secrets and volumes, with the notebook's pickers. */
export function SandboxFields(props: {
  workspace: Workspace;
  value: SandboxChoice;
  onChange(value: SandboxChoice): void;
  secrets: boolean;
}) {
  const { workspace, value, onChange } = props;
  const trpc = useTRPC();
  const images = useQuery(trpc.image.list.queryOptions({ workspaceId: workspace.id }));
  return (
    <section aria-label="Runs with" className="stack small">
      <p className="muted">
        Replicas run with the notebook's image, secrets and volumes unless you change them here; the version
        keeps this choice.
      </p>
      <ImageSelect
        value={value.imageId ?? 'base'}
        images={images.data ?? []}
        onChange={(imageId) => onChange({ ...value, imageId: imageId === 'base' ? null : imageId })}
      />
      {props.secrets ? (
        <div>
          <strong>Secrets</strong> <span className="muted">(environment variables)</span>
          <SecretChecklist
            workspace={workspace}
            chosen={value.secretIds}
            onChange={(secretIds) => onChange({ ...value, secretIds })}
            legend="Secrets its replicas get"
          />
        </div>
      ) : null}
      <div>
        <strong>Volumes</strong> <span className="muted">(mounted at /vol/&lt;name&gt;)</span>
        <VolumeChecklist
          workspace={workspace}
          chosen={value.volumes}
          onChange={(volumes) => onChange({ ...value, volumes })}
          legend="Volumes its replicas mount"
        />
      </div>
    </section>
  );
}
