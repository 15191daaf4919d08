'use client';

import { useTranslations } from 'next-intl';
import type { ReactNode } from 'react';
import { usePortal } from './portal-provider';
import { SignInPanel } from './sign-in-panel';

/**
 * Renders `children` only for a signed-in user and the sign-in form otherwise.
 * The URL stays the same, so after sign-in the user lands where they were going without a
 * redirect (a static export has no server to redirect with).
 */
export function RequireSignIn({ children }: { children: ReactNode }) {
  const t = useTranslations('app');
  const { authStatus } = usePortal();
  if (authStatus === 'unknown') {
    return (
      <p role="status" className="muted">
        {t('loading')}
      </p>
    );
  }
  if (authStatus === 'signedOut') return <SignInPanel />;
  return <>{children}</>;
}
