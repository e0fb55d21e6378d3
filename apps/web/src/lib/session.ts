'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useTRPC } from './trpc.ts';

/** The signed-in user and the session's CSRF token, or null when signed out. */
export function useMe() {
  const trpc = useTRPC();
  return useQuery(trpc.auth.me.queryOptions(undefined, { staleTime: 60_000 }));
}

/** Forgets every cached answer: they belonged to the previous session. */
export function useResetSession() {
  const queryClient = useQueryClient();
  return () => queryClient.clear();
}

export function useSignOut() {
  const trpc = useTRPC();
  const router = useRouter();
  const reset = useResetSession();
  return useMutation(
    trpc.auth.signOut.mutationOptions({
      onSuccess: () => {
        reset();
        router.replace('/sign-in');
      },
    }),
  );
}
