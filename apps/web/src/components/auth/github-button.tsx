'use client';
import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '../../lib/trpc.ts';

/** "Continue with GitHub", shown only when the server has GitHub OAuth configured. */
export function GitHubButton({ next }: { next: string }) {
  const trpc = useTRPC();
  const config = useQuery(trpc.auth.config.queryOptions(undefined, { staleTime: Number.POSITIVE_INFINITY }));
  if (!config.data?.githubEnabled) return null;
  return (
    <>
      <div className="divider">or</div>
      {/* A plain link: the OAuth flow is a sequence of full-page redirects. */}
      <a className="btn btn-block" href={`/api/auth/github?next=${encodeURIComponent(next)}`}>
        Continue with GitHub
      </a>
    </>
  );
}
