import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { Landing } from '../components/landing.tsx';
import { pageCaller } from '../server/page-caller.ts';

export const metadata: Metadata = {
  title: { absolute: 'Kiln: collaborative GPU notebooks you host yourself' },
};

/** Signed in: straight to the first workspace. Signed out: what Kiln is, and a way in. */
export default async function HomePage() {
  const caller = await pageCaller();
  const me = await caller.auth.me();
  if (me) {
    const workspaces = await caller.workspace.list();
    const first = workspaces[0];
    if (first) redirect(`/w/${first.slug}`);
    redirect('/account');
  }
  return <Landing />;
}
