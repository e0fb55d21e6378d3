'use client';
import { signUpInput } from '@kiln/api/inputs';
import { useMutation, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter, useSearchParams } from 'next/navigation';
import { useEffect } from 'react';
import { MIN_PASSWORD_LENGTH } from '../../lib/password-policy.ts';
import { safeNextPath } from '../../lib/safe-next.ts';
import { useMe, useResetSession } from '../../lib/session.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { useZodForm } from '../../lib/zod-form.ts';
import { TextField } from '../field.tsx';
import { ErrorAlert } from '../status.tsx';
import { AuthCard } from './auth-card.tsx';
import { GitHubButton } from './github-button.tsx';

export function SignUpForm() {
  const trpc = useTRPC();
  const router = useRouter();
  const params = useSearchParams();
  const next = safeNextPath(params.get('next'), '');
  // Coming from an invitation link: the invitation lets this address sign up where sign-up is by invitation.
  const invitation = /^\/invite\/([A-Za-z0-9_-]{1,200})$/.exec(next)?.[1];
  const config = useQuery(trpc.auth.config.queryOptions(undefined, { staleTime: Number.POSITIVE_INFINITY }));
  const me = useMe();
  const reset = useResetSession();
  const form = useZodForm(signUpInput, { defaultValues: { name: '', email: '', password: '' } });
  const { errors } = form.formState;

  const signUp = useMutation(
    trpc.auth.signUp.mutationOptions({
      onSuccess: (result) => {
        if (result.checkEmail) return;
        reset();
        // Invited: the account has joined that workspace already; the invitation page would only say "used".
        router.replace(
          result.joined ? `/w/${result.joined.slug}` : next || `/w/${result.personalWorkspace.slug}`,
        );
      },
    }),
  );

  // Already signed in on arrival: on to where they were going. Not after signing up here: onSuccess
  // decides (an invitation was joined at sign-up, so its page would only say "already used").
  const signedUpHere = signUp.isSuccess;
  useEffect(() => {
    if (me.data && !signedUpHere) router.replace(next || '/');
  }, [me.data, next, router, signedUpHere]);

  if (signUp.data?.checkEmail) {
    return (
      <AuthCard title="Check your email">
        <p>
          We sent a message to <strong>{signUp.variables?.email}</strong>. Open the link in it to finish
          creating your account; it works for 24 hours.
        </p>
        <p className="muted small">
          Nothing arrived? Look in your spam folder, or <Link href="/sign-in">sign in</Link> if you already
          have an account.
        </p>
      </AuthCard>
    );
  }

  return (
    <AuthCard title="Create your account">
      <form
        className="form"
        noValidate
        onSubmit={form.handleSubmit((values) => signUp.mutate({ ...values, invitation }))}
      >
        <TextField
          label="Name"
          autoComplete="name"
          required
          autoFocus
          maxLength={100}
          error={errors.name?.message}
          {...form.register('name')}
        />
        <TextField
          label="Email"
          type="email"
          autoComplete="email"
          required
          error={errors.email?.message}
          {...form.register('email')}
        />
        <TextField
          label="Password"
          type="password"
          autoComplete="new-password"
          required
          hint={`At least ${MIN_PASSWORD_LENGTH} characters.`}
          error={errors.password?.message}
          {...form.register('password')}
        />
        {config.data?.signUp === 'invite' && !invitation ? (
          <p className="muted small">
            Accounts here are created from invitations: use the link a workspace admin sent you.
          </p>
        ) : null}
        <ErrorAlert error={signUp.error} />
        <button type="submit" className="btn btn-primary btn-block" disabled={signUp.isPending}>
          {signUp.isPending ? 'Creating account…' : 'Sign up'}
        </button>
      </form>
      <GitHubButton next={next || '/'} />
      <p className="muted small">
        Already have an account?{' '}
        <Link href={next ? `/sign-in?next=${encodeURIComponent(next)}` : '/sign-in'}>Sign in</Link>
      </p>
    </AuthCard>
  );
}
