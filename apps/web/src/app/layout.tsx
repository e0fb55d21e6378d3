import type { Metadata } from 'next';
import { headers } from 'next/headers';
import type { ReactNode } from 'react';
import './globals.css';
import { Providers } from './providers.tsx';

export const metadata: Metadata = {
  title: { default: 'Kiln', template: '%s · Kiln' },
  description: 'Collaborative GPU notebooks',
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Reading the request renders every page per request, so each gets the nonce its CSP names
  // (a page rendered at build time would carry scripts no nonce allows).
  await headers();
  return (
    <html lang="en">
      <body>
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
