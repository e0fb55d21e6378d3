import Link from 'next/link';
import { AuthCard } from '../components/auth/auth-card.tsx';

export default function NotFound() {
  return (
    <AuthCard title="Page not found">
      <p>There is nothing at this address.</p>
      <Link href="/">Go to Kiln</Link>
    </AuthCard>
  );
}
