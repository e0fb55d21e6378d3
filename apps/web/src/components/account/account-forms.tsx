'use client';
import { changePasswordInput, updateProfileInput } from '@kiln/api/inputs';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { MIN_PASSWORD_LENGTH } from '../../lib/password-policy.ts';
import { useResetSession } from '../../lib/session.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { useZodForm } from '../../lib/zod-form.ts';
import { TextField } from '../field.tsx';
import type { Me } from '../require-auth.tsx';
import { ErrorAlert, SuccessAlert } from '../status.tsx';

export function ProfileForm({ me }: { me: Me }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const form = useZodForm(updateProfileInput, { defaultValues: { name: me.user.name } });
  const name = form.watch('name') ?? '';
  const update = useMutation(
    trpc.account.update.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.auth.me.queryKey() }),
    }),
  );
  return (
    <section className="card" aria-labelledby="profile-heading">
      <h2 id="profile-heading">Profile</h2>
      <form className="form-row" noValidate onSubmit={form.handleSubmit((values) => update.mutate(values))}>
        <TextField
          label="Name"
          autoComplete="name"
          required
          maxLength={100}
          error={form.formState.errors.name?.message}
          {...form.register('name', { onChange: () => update.reset() })}
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
  const form = useZodForm(changePasswordInput, { defaultValues: { currentPassword: '', newPassword: '' } });
  const { errors } = form.formState;
  const change = useMutation(trpc.account.changePassword.mutationOptions({ onSuccess: () => form.reset() }));
  return (
    <section className="card" aria-labelledby="password-heading">
      <h2 id="password-heading">Change password</h2>
      <form className="form" noValidate onSubmit={form.handleSubmit((values) => change.mutate(values))}>
        <TextField
          label="Current password"
          type="password"
          autoComplete="current-password"
          required
          error={errors.currentPassword?.message}
          {...form.register('currentPassword')}
        />
        <TextField
          label="New password"
          type="password"
          autoComplete="new-password"
          required
          hint={`At least ${MIN_PASSWORD_LENGTH} characters. Your other sessions will be signed out.`}
          error={errors.newPassword?.message}
          {...form.register('newPassword')}
        />
        <ErrorAlert error={change.error} />
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
