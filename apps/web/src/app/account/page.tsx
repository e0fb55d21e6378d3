'use client';
import {
  ChangePasswordForm,
  ProfileForm,
  SignOutEverywhere,
} from '../../components/account/account-forms.tsx';
import { AppHeader } from '../../components/app-header.tsx';
import { RequireAuth } from '../../components/require-auth.tsx';

export default function AccountPage() {
  return (
    <RequireAuth>
      {(me) => (
        <>
          <AppHeader me={me} />
          <main className="main">
            <div className="page-title">
              <h1>Account settings</h1>
            </div>
            <ProfileForm me={me} />
            <ChangePasswordForm />
            <SignOutEverywhere />
          </main>
        </>
      )}
    </RequireAuth>
  );
}
