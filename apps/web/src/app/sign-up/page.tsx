import type { Metadata } from 'next';
import { Suspense } from 'react';
import { SignUpForm } from '../../components/auth/sign-up-form.tsx';

export const metadata: Metadata = { title: 'Sign up' };

export default function SignUpPage() {
  return (
    <Suspense>
      <SignUpForm />
    </Suspense>
  );
}
