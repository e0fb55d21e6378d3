'use client';
import { signUpInput } from '@kiln/api/inputs';
import { useMutation } from '@tanstack/react-query';
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
  const me = useMe();
  const reset = useResetSession();
  const form = useZodForm(signUpInput, { defaultValues: { name: '', email: '', password: '' } });
  const { errors } = form.formState;

  const signUp = useMutation(
    trpc.auth.signUp.mutationOptions({
      onSuccess: (result) => {
        reset();
        router.replace(next || `/w/${result.personalWorkspace.slug}`);
      },
    }),
  );

  useEffect(() => {
    if (me.data) router.replace(next || '/');
  }, [me.data, next, router]);

  return (
    <AuthCard title="Create your account">
      <form className="form" noValidate onSubmit={form.handleSubmit((values) => signUp.mutate(values))}>
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
