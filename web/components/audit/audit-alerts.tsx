'use client';

import { useTranslations } from 'next-intl';
import { useCallback, useEffect, useState } from 'react';
import type { AuditAlert } from '../../lib/api-client';
import { ErrorPanel } from '../error-panel';
import { usePortal, type ShownError } from '../portal-provider';
import { reportError, useAuditTime } from './audit-parts';

const PAGE = 50;

/** Security alerts raised from the audit trail, newest first (R-AUD-5). */
export function AuditAlerts({ onForbidden }: { onForbidden(e: ShownError): void }) {
  const t = useTranslations('audit.alerts');
  const tc = useTranslations('audit.columns');
  const when = useAuditTime();
  const { api, config } = usePortal();
  const [items, setItems] = useState<AuditAlert[] | undefined>();
  const [next, setNext] = useState<string | undefined>();
  const [error, setError] = useState<ShownError | undefined>();
  const [busy, setBusy] = useState(false);

  const load = useCallback(
    async (cursor?: string) => {
      setBusy(true);
      setError(undefined);
      try {
        const page = await api.auditAlerts(PAGE, cursor);
        setItems((prev) => (cursor && prev ? [...prev, ...page.items] : page.items));
        setNext(page.cursor);
      } catch (err) {
        reportError(err, onForbidden, setError);
      } finally {
        setBusy(false);
      }
    },
    [api, onForbidden],
  );
  useEffect(() => {
    void load();
  }, [load]);

  return (
    <section aria-labelledby="audit-alerts-title" className="stack">
      <div className="section-head">
        <h2 id="audit-alerts-title">{t('title')}</h2>
        <button type="button" className="button button--secondary button--small" onClick={() => void load()} disabled={busy}>
          {t('reload')}
        </button>
      </div>
      <p role="status" aria-live="polite" className={items ? 'muted' : 'visually-hidden'} data-testid="audit-alerts-status">
        {busy ? t('loading') : items ? (items.length === 0 ? t('empty') : t('count', { count: items.length })) : ''}
      </p>
      {error ? <ErrorPanel error={error} onRetry={() => void load()} /> : null}
      {items && items.length > 0 ? (
        <>
          <div className="table-wrap" role="region" aria-labelledby="audit-alerts-title" tabIndex={0}>
            <table className="table" data-testid="audit-alerts">
              <caption className="visually-hidden">{t('caption', { count: items.length })}</caption>
              <thead>
                <tr>
                  <th scope="col">{tc('time')}</th>
                  <th scope="col">{t('columns.severity')}</th>
                  <th scope="col">{t('columns.rule')}</th>
                  <th scope="col">{tc('actor')}</th>
                  <th scope="col">{tc('operation')}</th>
                  <th scope="col">{t('columns.summary')}</th>
                  <th scope="col">{t('columns.event')}</th>
                </tr>
              </thead>
              <tbody>
                {items.map((a) => (
                  <tr key={a.alertId} data-alert-id={a.alertId}>
                    <th scope="row" className="nowrap">
                      {when(a.time)}
                      <span className="table__desc">{t('window', { from: when(a.windowStart) })}</span>
                    </th>
                    <td>
                      <span className={`badge badge--severity-${a.severity}`}>{t(`severities.${a.severity}`)}</span>
                    </td>
                    <td>{t(`rules.${a.rule}`)}</td>
                    <td>
                      <span className="mono">{a.actorId}</span>
                      {a.sourceIp ? <span className="table__desc mono">{a.sourceIp}</span> : null}
                    </td>
                    <td className="mono">{a.operation}</td>
                    <td>
                      {a.summary}
                      {a.count !== undefined ? <span className="table__desc">{t('countValue', { count: a.count })}</span> : null}
                    </td>
                    <td className="mono small break">{a.eventId}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p className="muted small">{t('timesIn', { zone: config.institutionTimeZone })}</p>
          {next ? (
            <button type="button" className="button button--secondary button--small" onClick={() => void load(next)} disabled={busy}>
              {t('more')}
            </button>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
