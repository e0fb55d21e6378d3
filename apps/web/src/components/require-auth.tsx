'use client';
import { usePathname, useRouter } from 'next/navigation';
import { type ReactNode, useEffect } from 'react';
import type { RouterOutputs } from '../lib/router-types.ts';
import { useMe } from '../lib/session.ts';
import { ErrorAlert, Loading } from './status.tsx';

export type Me = NonNullable<RouterOutputs['auth']['me']>;

/** Renders its children only for a signed-in user; anyone else goes to sign-in and comes back after. */
export function RequireAuth({ children }: { children: (me: Me) => ReactNode }) {
  const me = useMe();
  const router = useRouter();
  const pathname = usePathname();
  const signedOut = me.isSuccess && me.data === null;

  useEffect(() => {
    if (signedOut) router.replace(`/sign-in?next=${encodeURIComponent(pathname)}`);
  }, [signedOut, router, pathname]);

  if (me.isError) {
    return (
      <main className="main">
        <ErrorAlert error={me.error} />
      </main>
    );
  }
  if (!me.data) {
    return (
      <main className="main">
        <Loading />
      </main>
    );
  }
  return <>{children(me.data)}</>;
}
