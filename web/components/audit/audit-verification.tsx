'use client';

import { useTranslations } from 'next-intl';
import { useState } from 'react';
import type { AuditChainVerification } from '../../lib/api-client';
import { ErrorPanel } from '../error-panel';
import { usePortal, type ShownError } from '../portal-provider';
import { reportError, useAuditTime } from './audit-parts';

/** "Verify now": re-checks the signed digest chain and reports OK or the first broken link (R-AUD-2). */
export function AuditVerification({ onForbidden }: { onForbidden(e: ShownError): void }) {
  const t = useTranslations('audit.verification');
  const when = useAuditTime();
  const { api } = usePortal();
  const [result, setResult] = useState<{ data: AuditChainVerification; checkedAt: string } | undefined>();
  const [error, setError] = useState<ShownError | undefined>();
  const [busy, setBusy] = useState(false);

  async function verify() {
    setBusy(true);
    setError(undefined);
    try {
      const data = await api.auditVerification();
      setResult({ data, checkedAt: new Date().toISOString() });
    } catch (err) {
      reportError(err, onForbidden, setError);
    } finally {
      setBusy(false);
    }
  }

  const data = result?.data;
  return (
    <section aria-labelledby="audit-verification-title" className="stack">
      <div className="section-head">
        <h2 id="audit-verification-title">{t('title')}</h2>
      </div>
      <p className="muted">{t('intro')}</p>
      <div>
        <button type="button" className="button" onClick={() => void verify()} disabled={busy} data-testid="audit-verify">
          {busy ? t('verifying') : t('verifyNow')}
        </button>
      </div>
      {error ? <ErrorPanel error={error} onRetry={() => void verify()} /> : null}
      <div aria-live="polite" role="status" data-testid="audit-verification-result">
        {busy ? <p className="visually-hidden">{t('verifying')}</p> : null}
        {data && !busy ? (
          <div className={`notice ${data.ok ? 'notice--success' : 'notice--error'}`} data-ok={data.ok}>
            <p className="notice__title" data-testid="audit-verification-verdict">
              {data.ok ? t('ok') : t('broken')}
            </p>
            {data.firstBroken ? (
              <p data-testid="audit-first-broken">
                {t('firstBroken', { digestId: data.firstBroken.digestId, reason: t(`reasons.${data.firstBroken.reason}`) })}
                {data.firstBroken.eventId ? (
                  <>
                    {' '}
                    {t('brokenEvent')} <span className="mono">{data.firstBroken.eventId}</span>
                  </>
                ) : null}
              </p>
            ) : null}
            <dl className="facts facts--compact">
              <div className="facts__row">
                <dt>{t('digestsChecked')}</dt>
                <dd data-testid="audit-digests-checked">{data.digestsChecked}</dd>
              </div>
              <div className="facts__row">
                <dt>{t('eventsChecked')}</dt>
                <dd data-testid="audit-events-checked">{data.eventsChecked}</dd>
              </div>
              <div className="facts__row">
                <dt>{t('sealedThrough')}</dt>
                <dd>{data.sealedThrough ? when(data.sealedThrough) : t('nothingSealed')}</dd>
              </div>
              <div className="facts__row">
                <dt>{t('checkedAt')}</dt>
                <dd>{when(result.checkedAt)}</dd>
              </div>
            </dl>
          </div>
        ) : null}
      </div>
    </section>
  );
}
