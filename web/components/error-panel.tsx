'use client';

import Link from 'next/link';
import { useTranslations } from 'next-intl';

/**
 * Shows a failure with its message and machine code, and optionally a retry button.
 * Every failed call ends up here so users never face a blank page and can quote the code to support.
 */
export function ErrorPanel({
  title,
  error,
  onRetry,
}: {
  title?: string;
  error: { code: string; message: string };
  onRetry?: () => void;
}) {
  const t = useTranslations('errors');
  return (
    <div className="error-panel" role="alert">
      <h2 className="error-panel__title">{title ?? t('title')}</h2>
      <p className="error-panel__message">{error.message}</p>
      {error.code === 'MFA_REQUIRED' ? (
        <p className="error-panel__message" data-testid="mfa-required">
          {t('mfaRequired')} <Link href="/account/security/">{t('mfaSetUp')}</Link>
        </p>
      ) : null}
      <p className="error-panel__code">
        {t('codeLabel')}: <code>{error.code}</code>
      </p>
      {onRetry ? (
        <button type="button" className="button button--secondary" onClick={onRetry}>
          {t('retry')}
        </button>
      ) : null}
    </div>
  );
}
