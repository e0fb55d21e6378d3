'use client';
import { signInInput } from '@kiln/api/inputs';
import { useMutation } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter, useSearchParams } from 'next/navigation';
import { useEffect } from 'react';
import { safeNextPath } from '../../lib/safe-next.ts';
import { useMe, useResetSession } from '../../lib/session.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { useZodForm } from '../../lib/zod-form.ts';
import { TextField } from '../field.tsx';
import { ErrorAlert } from '../status.tsx';
import { AuthCard } from './auth-card.tsx';
import { GitHubButton } from './github-button.tsx';

const OAUTH_ERRORS: Record<string, string> = {
  github: 'GitHub sign-in failed. Please try again.',
  github_state: 'GitHub sign-in expired or was started in another tab. Please try again.',
  github_email: 'Your GitHub account has no verified primary email. Verify one on GitHub and try again.',
  github_conflict: 'This email is already linked to another GitHub account.',
  github_invite:
    'Accounts on this Kiln are created from invitations: ask a workspace admin to invite the email address of your GitHub account.',
};

export function SignInForm() {
  const trpc = useTRPC();
  const router = useRouter();
  const params = useSearchParams();
  const next = safeNextPath(params.get('next'));
  const oauthError = OAUTH_ERRORS[params.get('error') ?? ''];
  const me = useMe();
  const reset = useResetSession();
  const form = useZodForm(signInInput, { defaultValues: { email: '', password: '' } });
  const { errors } = form.formState;

  const signIn = useMutation(
    trpc.auth.signIn.mutationOptions({
      onSuccess: () => {
        reset();
        router.replace(next);
      },
    }),
  );

  useEffect(() => {
    if (me.data) router.replace(next);
  }, [me.data, next, router]);

  const suffix = next === '/' ? '' : `?next=${encodeURIComponent(next)}`;

  return (
    <AuthCard title="Sign in">
      <form className="form" noValidate onSubmit={form.handleSubmit((values) => signIn.mutate(values))}>
        <TextField
          label="Email"
          type="email"
          autoComplete="email"
          required
          autoFocus
          error={errors.email?.message}
          {...form.register('email')}
        />
        <TextField
          label="Password"
          type="password"
          autoComplete="current-password"
          required
          error={errors.password?.message}
          {...form.register('password')}
        />
        <ErrorAlert error={signIn.error} />
        {oauthError && !signIn.error ? <ErrorAlert>{oauthError}</ErrorAlert> : null}
        <button type="submit" className="btn btn-primary btn-block" disabled={signIn.isPending}>
          {signIn.isPending ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <GitHubButton next={next} />
      <p className="muted small">
        New to Kiln? <Link href={`/sign-up${suffix}`}>Create an account</Link>
      </p>
    </AuthCard>
  );
}
