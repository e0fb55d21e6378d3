'use client';
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { useTRPC } from '../../lib/trpc.ts';
import { ErrorAlert } from '../status.tsx';

const POLL_MS = 1000;

/**
 * An image's build log as it grows: asks for the log past what it has every second while the build
 * runs, and stops once it is ready or failed (the stored log stays readable afterwards).
 */
export function ImageBuildLog(props: { workspaceId: string; imageId: string; onFinished?(): void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [log, setLog] = useState('');
  const [state, setState] = useState<string>('building');
  const [error, setError] = useState<unknown>(null);
  const bottom = useRef<HTMLPreElement>(null);
  const { workspaceId, imageId, onFinished } = props;

  useEffect(() => {
    let offset = 0;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setLog('');
    const poll = async () => {
      try {
        const followed = await queryClient.fetchQuery({
          ...trpc.image.follow.queryOptions({ workspaceId, imageId, offset }),
          staleTime: 0,
        });
        if (stopped) return;
        if (followed.log) setLog((text) => text + followed.log);
        offset = followed.next;
        setState(followed.image.state);
        if (followed.image.state === 'building') timer = setTimeout(poll, POLL_MS);
        else onFinished?.();
      } catch (caught) {
        if (!stopped) setError(caught);
      }
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [workspaceId, imageId, queryClient, trpc, onFinished]);

  useEffect(() => {
    const element = bottom.current;
    if (element && log) element.scrollTop = element.scrollHeight;
  }, [log]);

  return (
    <section aria-label="Build log">
      <p className="small muted" aria-live="polite">
        {state === 'building' ? 'Building…' : state === 'ready' ? 'Build finished.' : 'Build failed.'}
      </p>
      <pre ref={bottom} className="build-log" data-testid="image-build-log">
        {log || (state === 'building' ? 'Waiting for output…' : 'No log kept for this build.')}
      </pre>
      <ErrorAlert error={error} />
    </section>
  );
}
