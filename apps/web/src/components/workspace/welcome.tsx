'use client';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { ChartColumn, Cpu, UserPlus } from 'lucide-react';
import { useRouter } from 'next/navigation';
import { useTRPC } from '../../lib/trpc.ts';
import { ErrorAlert } from '../status.tsx';

/**
 * The first screen of a workspace without notebooks: a sample notebook that shows a kernel, a plot
 * and inviting a collaborator, or an empty notebook. Either opens right away.
 */
export function Welcome(props: { workspaceId: string; workspaceSlug: string; onCreateEmpty(): void }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const sample = useMutation(
    trpc.notebook.createSample.mutationOptions({
      onSuccess: async (notebook) => {
        await queryClient.invalidateQueries({
          queryKey: trpc.notebook.list.queryKey({ workspaceId: props.workspaceId }),
        });
        router.push(`/w/${props.workspaceSlug}/n/${notebook.id}`);
      },
    }),
  );
  return (
    <section className="welcome card" aria-labelledby="welcome-heading">
      <h2 id="welcome-heading">Start with a sample notebook</h2>
      <p className="muted">
        A two-minute tour: it runs on a kernel of its own and shows what Kiln adds to Jupyter.
      </p>
      <ul className="welcome-points">
        <li>
          <Cpu size={18} aria-hidden="true" /> A Python kernel in its own sandbox, started on the first run
        </li>
        <li>
          <ChartColumn size={18} aria-hidden="true" /> A plot, kept in the notebook for everyone who opens it
        </li>
        <li>
          <UserPlus size={18} aria-hidden="true" /> Inviting a collaborator to edit and run it with you, live
        </li>
      </ul>
      <ErrorAlert error={sample.error} />
      <div className="row">
        <button
          type="button"
          className="btn btn-primary"
          disabled={sample.isPending}
          aria-busy={sample.isPending || undefined}
          onClick={() => sample.mutate({ workspaceId: props.workspaceId })}
        >
          {sample.isPending ? 'Opening…' : 'Open the sample notebook'}
        </button>
        <button type="button" className="btn" onClick={props.onCreateEmpty}>
          Create an empty notebook
        </button>
      </div>
    </section>
  );
}
