import type { Metadata, Viewport } from 'next';
import type { ReactNode } from 'react';
import { AppShell } from '../components/app-shell';
import { PortalProvider } from '../components/portal-provider';
import './globals.css';

/** Static metadata; the title is bilingual because it is fixed at build time. */
export const metadata: Metadata = {
  title: 'MDRP 研究门户 · Research portal',
  description: 'MDRP researcher portal',
  // Research data portal: keep it out of search engines.
  robots: { index: false, follow: false },
};

/** Viewport settings for the portal. */
export const viewport: Viewport = {
  width: 'device-width',
  initialScale: 1,
  themeColor: '#0b4f6c',
};

/**
 * Root layout. `lang` starts as the default locale and is updated on the client once the
 * user's locale is known (there is no per-locale HTML in a static export without i18n routing).
 */
export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="zh-CN" suppressHydrationWarning>
      <body>
        <PortalProvider>
          <AppShell>{children}</AppShell>
        </PortalProvider>
      </body>
    </html>
  );
}
