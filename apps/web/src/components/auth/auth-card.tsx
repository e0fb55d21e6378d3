import Link from 'next/link';
import type { ReactNode } from 'react';

/** The centred card the sign-in, sign-up and invitation pages share. */
export function AuthCard({ title, children }: { title: string; children: ReactNode }) {
  return (
    <main className="auth-page">
      <div className="auth-card">
        <Link href="/" className="brand">
          Kiln<span>.</span>
        </Link>
        <h1>{title}</h1>
        {children}
      </div>
    </main>
  );
}
