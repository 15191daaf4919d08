'use client';

import { useFormatter, useTranslations } from 'next-intl';
import { ApiError } from '../../lib/api-client';
import { toShownError, type ShownError } from '../portal-provider';

/** True when the API refused the caller (403): the console then shows "not authorized", never data. */
export function isForbidden(err: unknown): boolean {
  return err instanceof ApiError && err.status === 403;
}

/** Routes a failure either to the console's "not authorized" state or to the caller's error panel. */
export function reportError(err: unknown, onForbidden: (e: ShownError) => void, setError: (e: ShownError) => void): void {
  if (isForbidden(err)) onForbidden(toShownError(err));
  else setError(toShownError(err));
}

/** Formats an instant to the second in the institution's time zone (audit needs seconds). */
export function useAuditTime(): (iso: string | undefined) => string {
  const format = useFormatter();
  return (iso) =>
    iso
      ? format.dateTime(new Date(iso), {
          year: 'numeric',
          month: '2-digit',
          day: '2-digit',
          hour: '2-digit',
          minute: '2-digit',
          second: '2-digit',
          hourCycle: 'h23',
        })
      : '—';
}

/** Coloured outcome label of an audit event. */
export function OutcomeBadge({ outcome }: { outcome: string }) {
  const t = useTranslations('audit.outcomes');
  return (
    <span className={`badge badge--outcome-${outcome}`} data-testid="outcome-badge" data-outcome={outcome}>
      {t.has(outcome as 'success') ? t(outcome as 'success') : outcome}
    </span>
  );
}

/** The API's refusal (403) shown as a clear "not authorized" message with its code. */
export function NotAuthorized({ error }: { error: ShownError }) {
  const t = useTranslations('audit');
  return (
    <div className="notice notice--error" role="alert" data-testid="audit-forbidden">
      <h2 className="notice__title">{t('forbiddenTitle')}</h2>
      <p>{t('forbiddenBody')}</p>
      <p className="muted small">
        {t('forbiddenCode')}: <code>{error.code}</code>
      </p>
    </div>
  );
}
