'use client';
import { useMutation } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter, useSearchParams } from 'next/navigation';
import { useEffect, useState } from 'react';
import { MIN_PASSWORD_LENGTH } from '../../lib/password-policy.ts';
import { safeNextPath } from '../../lib/safe-next.ts';
import { useMe, useResetSession } from '../../lib/session.ts';
import { useTRPC } from '../../lib/trpc.ts';
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
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [tooShort, setTooShort] = useState(false);

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
      <form
        className="form"
        onSubmit={(event) => {
          event.preventDefault();
          if (password.length < MIN_PASSWORD_LENGTH) {
            setTooShort(true);
            return;
          }
          signUp.mutate({ name: name.trim(), email: email.trim(), password });
        }}
      >
        <TextField
          label="Name"
          name="name"
          autoComplete="name"
          required
          autoFocus
          maxLength={100}
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <TextField
          label="Email"
          type="email"
          name="email"
          autoComplete="email"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
        <TextField
          label="Password"
          type="password"
          name="password"
          autoComplete="new-password"
          required
          hint={`At least ${MIN_PASSWORD_LENGTH} characters.`}
          error={
            tooShort && password.length < MIN_PASSWORD_LENGTH
              ? `Use at least ${MIN_PASSWORD_LENGTH} characters.`
              : null
          }
          value={password}
          onChange={(e) => setPassword(e.target.value)}
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
