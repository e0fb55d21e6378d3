'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useParams, useRouter } from 'next/navigation';
import { AuthCard } from '../../../components/auth/auth-card.tsx';
import { ErrorAlert, Loading } from '../../../components/status.tsx';
import { errorCode } from '../../../lib/errors.ts';
import { type Role, roleLabel } from '../../../lib/roles.ts';
import { useMe } from '../../../lib/session.ts';
import { useTRPC } from '../../../lib/trpc.ts';

export default function InvitationPage() {
  const { token } = useParams<{ token: string }>();
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const me = useMe();
  const preview = useQuery(trpc.invitation.preview.queryOptions({ token }));
  const accept = useMutation(
    trpc.invitation.accept.mutationOptions({
      onSuccess: async (result) => {
        await queryClient.invalidateQueries({ queryKey: trpc.workspace.list.queryKey() });
        router.push(`/w/${result.slug}`);
      },
    }),
  );

  if (preview.isPending || me.isPending) {
    return (
      <AuthCard title="Invitation">
        <Loading />
      </AuthCard>
    );
  }
  if (preview.isError) {
    return (
      <AuthCard title="Invitation not found">
        {errorCode(preview.error) === 'NOT_FOUND' ? (
          <p>This invitation link is not valid. Ask for a new one.</p>
        ) : (
          <ErrorAlert error={preview.error} />
        )}
        <Link href="/">Go to Kiln</Link>
      </AuthCard>
    );
  }

  const invitation = preview.data;
  const next = `?next=${encodeURIComponent(`/invite/${token}`)}`;
  const unusable = invitation.expired
    ? 'This invitation has expired. Ask for a new one.'
    : invitation.accepted
      ? 'This invitation has already been used.'
      : null;

  return (
    <AuthCard title={`Join ${invitation.workspaceName}`}>
      <p>
        {invitation.invitedBy ? `${invitation.invitedBy} invited you` : 'You are invited'} to join{' '}
        <strong>{invitation.workspaceName}</strong> as <strong>{roleLabel[invitation.role as Role]}</strong>.
      </p>
      <p className="muted small">Invitation for {invitation.email}</p>
      {unusable ? <ErrorAlert>{unusable}</ErrorAlert> : null}
      {!unusable && me.data ? (
        <>
          {invitation.forYou === false ? (
            <p className="alert alert-info">
              You are signed in as {me.data.user.email}. This invitation is for {invitation.email}: sign in
              with that address to accept it.
            </p>
          ) : null}
          <ErrorAlert error={accept.error} />
          <button
            type="button"
            className="btn btn-primary btn-block"
            disabled={accept.isPending}
            onClick={() => accept.mutate({ token })}
          >
            {accept.isPending ? 'Joining…' : 'Accept invitation'}
          </button>
        </>
      ) : null}
      {!unusable && !me.data ? (
        <div className="stack">
          <p>Sign in or create an account to accept.</p>
          <Link className="btn btn-primary btn-block" href={`/sign-up${next}`}>
            Sign up
          </Link>
          <Link className="btn btn-block" href={`/sign-in${next}`}>
            Sign in
          </Link>
        </div>
      ) : null}
    </AuthCard>
  );
}
