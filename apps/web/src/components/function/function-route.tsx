'use client';
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useTRPC } from '../../lib/trpc.ts';
import { useWorkspace } from '../workspace/workspace-context.tsx';
import { FunctionPage } from './function-page.tsx';

/** A function file inside the workspace shell; its name follows renames made elsewhere. */
export function FunctionRoute({ file }: { file: { id: string; name: string } | null }) {
  const { workspace, me } = useWorkspace();
  const trpc = useTRPC();
  const list = useQuery(trpc.notebook.list.queryOptions({ workspaceId: workspace.id }));
  if (!file) {
    return (
      <div className="empty stack">
        <h1>Function file not found</h1>
        <p>
          <Link href={`/w/${workspace.slug}`}>Back to the workspace</Link>
        </p>
      </div>
    );
  }
  const name = list.data?.find((item) => item.id === file.id)?.name ?? file.name;
  return <FunctionPage workspace={workspace} me={me} file={{ id: file.id, name }} />;
}
