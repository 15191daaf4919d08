'use client';

import { useTranslations } from 'next-intl';
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { ApiError } from '../../lib/api-client';
import { institutionDataAccess, type CoveringGrant, type DataAccessEntry } from '../../lib/audit-insights-api';
import { ProfilePending } from '../access/access-parts';
import { ErrorPanel } from '../error-panel';
import { toShownError, usePortal, type ShownError } from '../portal-provider';
import { OutcomeBadge, useAuditTime } from './audit-parts';

const PAGE = 50;

/** `YYYY-MM-DD` (a date input) → ISO at the start (or end) of that UTC day. */
function dayBound(day: string, end: boolean): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  return end ? `${day}T23:59:59.999Z` : `${day}T00:00:00.000Z`;
}

/**
 * `/data-access/`: "who accessed my data" for data providers and data owners (R-AUD-4, R-GOV-6):
 * the grants that cover the institution's datasets and every recorded access to them, newest
 * first, within an optional date range. The API restricts both to the caller's institution.
 */
export function DataAccessLog() {
  const { me } = usePortal();
  if (!me) return <ProfilePending />;
  return <DataAccessBody institution={me.institution} />;
}

function DataAccessBody({ institution }: { institution?: string }) {
  const t = useTranslations('dataAccess');
  const when = useAuditTime();
  const { api, config } = usePortal();
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [range, setRange] = useState<{ from?: string; to?: string }>({});
  const [items, setItems] = useState<DataAccessEntry[] | undefined>();
  const [grants, setGrants] = useState<CoveringGrant[]>([]);
  const [next, setNext] = useState<string | undefined>();
  const [error, setError] = useState<ShownError | undefined>();
  const [forbidden, setForbidden] = useState<ShownError | undefined>();
  const [busy, setBusy] = useState(false);
  const fromId = useId();
  const toId = useId();

  const load = useCallback(
    async (r: { from?: string; to?: string }, cursor?: string) => {
      setBusy(true);
      setError(undefined);
      try {
        const page = await institutionDataAccess(api, { ...r, limit: PAGE, cursor });
        setItems((prev) => (cursor && prev ? [...prev, ...page.items] : page.items));
        setGrants(page.grants);
        setNext(page.cursor);
      } catch (err) {
        if (err instanceof ApiError && err.status === 403) setForbidden(toShownError(err));
        else setError(toShownError(err));
      } finally {
        setBusy(false);
      }
    },
    [api],
  );
  useEffect(() => {
    void load(range);
  }, [load, range]);

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    setRange({ from: dayBound(from, false), to: dayBound(to, true) });
  }

  const head = (
    <div className="page-head">
      <div>
        <h1>{t('pageTitle')}</h1>
        <p className="muted">{t('intro', { institution: institution ?? '—' })}</p>
      </div>
    </div>
  );
  if (forbidden) {
    return (
      <div className="stack">
        {head}
        <div className="notice notice--error" role="alert" data-testid="data-access-forbidden">
          <h2 className="notice__title">{t('forbiddenTitle')}</h2>
          <p>{t('forbiddenBody')}</p>
          <p className="muted small">
            {t('forbiddenCode')}: <code>{forbidden.code}</code>
          </p>
        </div>
      </div>
    );
  }

  return (
    <div className="stack" data-testid="data-access">
      {head}
      <form className="form form--wide card" onSubmit={onSubmit} noValidate data-testid="data-access-form">
        <div className="form__row">
          <div className="field">
            <label htmlFor={fromId} className="field__label">
              {t('from')}
            </label>
            <input id={fromId} type="date" className="input" value={from} onChange={(e) => setFrom(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor={toId} className="field__label">
              {t('to')}
            </label>
            <input id={toId} type="date" className="input" value={to} onChange={(e) => setTo(e.target.value)} />
          </div>
        </div>
        <div className="form__actions">
          <button type="submit" className="button" disabled={busy}>
            {t('apply')}
          </button>
        </div>
      </form>
      {error ? <ErrorPanel error={error} onRetry={() => void load(range)} /> : null}

      <section aria-labelledby="data-access-grants-title" className="stack">
        <h2 id="data-access-grants-title">{t('grants.title')}</h2>
        {grants.length === 0 ? (
          <p className="muted">{t('grants.empty')}</p>
        ) : (
          <div className="table-wrap" role="region" aria-labelledby="data-access-grants-title" tabIndex={0}>
            <table className="table" data-testid="data-access-grants">
              <caption className="visually-hidden">{t('grants.caption', { count: grants.length })}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('grants.columns.grant')}</th>
                  <th scope="col">{t('grants.columns.holder')}</th>
                  <th scope="col">{t('grants.columns.datasets')}</th>
                  <th scope="col">{t('grants.columns.validity')}</th>
                  <th scope="col">{t('grants.columns.status')}</th>
                </tr>
              </thead>
              <tbody>
                {grants.map((g) => (
                  <tr key={g.grantId}>
                    <th scope="row" className="mono small">
                      {g.grantId}
                      <span className="table__desc">{g.requestId}</span>
                    </th>
                    <td>
                      {g.holderName}
                      <span className="table__desc">{g.holderInstitution}</span>
                    </td>
                    <td className="mono small">{g.datasetIds.join(', ')}</td>
                    <td className="nowrap">
                      {when(g.startsAt)} – {when(g.expiresAt)}
                    </td>
                    <td>{t(`grants.statuses.${g.status}`)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section aria-labelledby="data-access-events-title" className="stack">
        <h2 id="data-access-events-title">{t('events.title')}</h2>
        <p role="status" aria-live="polite" className="muted" data-testid="data-access-status">
          {busy ? t('loading') : items ? (items.length === 0 ? t('events.empty') : t('events.count', { count: items.length })) : ''}
        </p>
        {items && items.length > 0 ? (
          <>
            <div className="table-wrap" role="region" aria-labelledby="data-access-events-title" tabIndex={0}>
              <table className="table" data-testid="data-access-events">
                <caption className="visually-hidden">{t('events.caption', { count: items.length })}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('events.columns.time')}</th>
                    <th scope="col">{t('events.columns.who')}</th>
                    <th scope="col">{t('events.columns.operation')}</th>
                    <th scope="col">{t('events.columns.data')}</th>
                    <th scope="col">{t('events.columns.grant')}</th>
                    <th scope="col">{t('events.columns.outcome')}</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((e) => (
                    <tr key={e.eventId} data-event-id={e.eventId}>
                      <th scope="row" className="nowrap">
                        {when(e.time)}
                      </th>
                      <td>
                        <span className="mono small break">{e.actor.id}</span>
                        <span className="table__desc">{[e.actor.roles.join(', '), e.actor.institution].filter(Boolean).join(' · ')}</span>
                      </td>
                      <td className="mono">{e.operation}</td>
                      <td>
                        <span className="mono small">{e.datasetIds.join(', ')}</span>
                        <span className="table__desc">
                          {t(`events.via.${e.via}`)}
                          {e.patientToken ? ` · ${e.patientToken}` : ''}
                          {e.count !== undefined ? ` · ${t('events.items', { count: e.count })}` : ''}
                        </span>
                      </td>
                      <td className="mono small">{e.grantId ?? e.requestId ?? '—'}</td>
                      <td>
                        <OutcomeBadge outcome={e.outcome} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <p className="muted small">{t('timesIn', { zone: config.institutionTimeZone })}</p>
            {next ? (
              <button type="button" className="button button--secondary button--small" onClick={() => void load(range, next)} disabled={busy}>
                {t('more')}
              </button>
            ) : null}
          </>
        ) : null}
      </section>
    </div>
  );
}
