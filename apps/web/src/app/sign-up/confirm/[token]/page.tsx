'use client';
import { useMutation } from '@tanstack/react-query';
import Link from 'next/link';
import { useParams, useRouter } from 'next/navigation';
import { AuthCard } from '../../../../components/auth/auth-card.tsx';
import { ErrorAlert } from '../../../../components/status.tsx';
import { useResetSession } from '../../../../lib/session.ts';
import { useTRPC } from '../../../../lib/trpc.ts';

/**
 * Where the sign-up confirmation email leads. The account is created on a click, not on loading the
 * page: mail scanners that fetch every link must not use it up.
 */
export default function ConfirmSignUpPage() {
  const { token } = useParams<{ token: string }>();
  const trpc = useTRPC();
  const router = useRouter();
  const reset = useResetSession();
  const confirm = useMutation(
    trpc.auth.confirmSignUp.mutationOptions({
      onSuccess: (result) => {
        reset();
        // Invited: straight into the workspace that invited them, not their own empty one.
        router.replace(`/w/${(result.joined ?? result.personalWorkspace).slug}`);
      },
    }),
  );
  return (
    <AuthCard title="Confirm your account">
      <p>Your email address is confirmed by this link. Create the account to start using Kiln.</p>
      <ErrorAlert error={confirm.error} />
      <button
        type="button"
        className="btn btn-primary btn-block"
        disabled={confirm.isPending || confirm.isSuccess}
        onClick={() => confirm.mutate({ token })}
      >
        {confirm.isPending ? 'Creating account…' : 'Create my account'}
      </button>
      <p className="muted small">
        Already confirmed? <Link href="/sign-in">Sign in</Link>
      </p>
    </AuthCard>
  );
}
