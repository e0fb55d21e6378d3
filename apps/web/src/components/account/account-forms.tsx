'use client';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { MIN_PASSWORD_LENGTH } from '../../lib/password-policy.ts';
import { useResetSession } from '../../lib/session.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { TextField } from '../field.tsx';
import type { Me } from '../require-auth.tsx';
import { ErrorAlert, SuccessAlert } from '../status.tsx';

export function ProfileForm({ me }: { me: Me }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [name, setName] = useState(me.user.name);
  const update = useMutation(
    trpc.account.update.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.auth.me.queryKey() }),
    }),
  );
  return (
    <section className="card" aria-labelledby="profile-heading">
      <h2 id="profile-heading">Profile</h2>
      <form
        className="form-row"
        onSubmit={(event) => {
          event.preventDefault();
          update.mutate({ name: name.trim() });
        }}
      >
        <TextField
          label="Name"
          name="name"
          autoComplete="name"
          required
          maxLength={100}
          value={name}
          onChange={(e) => {
            update.reset();
            setName(e.target.value);
          }}
        />
        <button type="submit" className="btn btn-primary" disabled={update.isPending || !name.trim()}>
          {update.isPending ? 'Saving…' : 'Save name'}
        </button>
      </form>
      <p className="muted small">Signed in as {me.user.email}</p>
      <ErrorAlert error={update.error} />
      {update.isSuccess ? <SuccessAlert>Name saved.</SuccessAlert> : null}
    </section>
  );
}

export function ChangePasswordForm() {
  const trpc = useTRPC();
  const [currentPassword, setCurrent] = useState('');
  const [newPassword, setNew] = useState('');
  const [localError, setLocalError] = useState<string | null>(null);
  const change = useMutation(
    trpc.account.changePassword.mutationOptions({
      onSuccess: () => {
        setCurrent('');
        setNew('');
      },
    }),
  );
  return (
    <section className="card" aria-labelledby="password-heading">
      <h2 id="password-heading">Change password</h2>
      <form
        className="form"
        onSubmit={(event) => {
          event.preventDefault();
          if (newPassword.length < MIN_PASSWORD_LENGTH) {
            setLocalError(`Use at least ${MIN_PASSWORD_LENGTH} characters for the new password.`);
            return;
          }
          setLocalError(null);
          change.mutate({ currentPassword, newPassword });
        }}
      >
        <TextField
          label="Current password"
          type="password"
          name="currentPassword"
          autoComplete="current-password"
          required
          value={currentPassword}
          onChange={(e) => setCurrent(e.target.value)}
        />
        <TextField
          label="New password"
          type="password"
          name="newPassword"
          autoComplete="new-password"
          required
          hint={`At least ${MIN_PASSWORD_LENGTH} characters. Your other sessions will be signed out.`}
          value={newPassword}
          onChange={(e) => setNew(e.target.value)}
        />
        <ErrorAlert error={change.error}>{localError}</ErrorAlert>
        {change.isSuccess ? (
          <SuccessAlert>Password changed. Other sessions were signed out.</SuccessAlert>
        ) : null}
        <div>
          <button type="submit" className="btn btn-primary" disabled={change.isPending}>
            {change.isPending ? 'Saving…' : 'Change password'}
          </button>
        </div>
      </form>
    </section>
  );
}

export function SignOutEverywhere() {
  const trpc = useTRPC();
  const router = useRouter();
  const reset = useResetSession();
  const signOutAll = useMutation(
    trpc.auth.signOutEverywhere.mutationOptions({
      onSuccess: () => {
        reset();
        router.replace('/sign-in');
      },
    }),
  );
  return (
    <section className="card" aria-labelledby="sessions-heading">
      <h2 id="sessions-heading">Sessions</h2>
      <p className="muted">Sign out of Kiln on every device and browser, including this one.</p>
      <ErrorAlert error={signOutAll.error} />
      <div>
        <button
          type="button"
          className="btn btn-danger"
          disabled={signOutAll.isPending}
          onClick={() => signOutAll.mutate()}
        >
          Sign out everywhere
        </button>
      </div>
    </section>
  );
}
