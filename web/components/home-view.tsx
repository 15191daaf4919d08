'use client';

import Link from 'next/link';
import { useFormatter, useTranslations } from 'next-intl';
import { useCallback, useEffect, useState } from 'react';
import type { DatasetSummary } from '../lib/api-client';
import { tasksForRoles } from '../lib/roles';
import { ErrorPanel } from './error-panel';
import { toShownError, usePortal, type ShownError } from './portal-provider';

/** Role-aware home page: who you are, what you can do, and the aggregate dataset catalogue. */
export function HomeView() {
  const t = useTranslations();
  const format = useFormatter();
  const { me, meError, reloadMe, api, sessionExpiresAt } = usePortal();

  if (meError) return <ErrorPanel error={meError} onRetry={() => void reloadMe()} />;
  if (!me) {
    return (
      <p role="status" className="muted">
        {t('home.loading')}
      </p>
    );
  }

  const groups = tasksForRoles(me.roles);
  return (
    <div className="stack">
      <section className="card profile" aria-labelledby="greeting">
        <h1 id="greeting" data-testid="greeting">
          {t('home.greeting', { name: me.displayName })}
        </h1>
        <dl className="profile__facts">
          <div>
            <dt>{t('home.institutionLabel')}</dt>
            <dd data-testid="institution">{me.institution}</dd>
          </div>
          <div>
            <dt>{t('home.rolesLabel')}</dt>
            <dd>
              {me.roles.length === 0 ? '—' : null}
              <ul className="tags" data-testid="roles">
                {me.roles.map((role) => (
                  <li key={role} className="tag">
                    {t.has(`roles.${role}`) ? t(`roles.${role}`) : role}
                  </li>
                ))}
              </ul>
            </dd>
          </div>
          <div>
            <dt>{t('home.mfaLabel')}</dt>
            <dd>
              {me.mfaEnabled ? t('home.mfaOn') : t('home.mfaOff')} · <Link href="/account/security/">{t('header.security')}</Link>
            </dd>
          </div>
        </dl>
        {sessionExpiresAt ? (
          <p className="muted small" data-testid="session-expiry">
            {t('home.sessionUntil', {
              // The zone is spelled out because the browser's own zone may differ from the institution's.
              time: format.dateTime(sessionExpiresAt, {
                year: 'numeric',
                month: 'short',
                day: 'numeric',
                hour: '2-digit',
                minute: '2-digit',
                timeZoneName: 'short',
              }),
            })}
          </p>
        ) : null}
      </section>

      <section aria-labelledby="tasks-title">
        <h2 id="tasks-title">{t('home.tasksTitle')}</h2>
        {groups.length === 0 ? (
          <p className="muted">{t('home.tasksEmpty')}</p>
        ) : (
          <nav aria-labelledby="tasks-title">
            <ul className="task-grid" data-testid="tasks">
              {groups.flatMap(({ role, tasks }) =>
                tasks.map((task) => (
                  <li key={`${role}-${task.id}`}>
                    <Link href={task.href} className="task">
                      <span className="task__role">{t(`roles.${role}`)}</span>
                      <span className="task__title">{t(`tasks.${task.id}.title`)}</span>
                      <span className="task__desc">{t(`tasks.${task.id}.description`)}</span>
                    </Link>
                  </li>
                )),
              )}
            </ul>
          </nav>
        )}
      </section>

      <Catalogue loadDatasets={() => api.datasets()} canApply={me.roles.includes('researcher')} />
    </div>
  );
}

/** The aggregate dataset catalogue with "apply for access" links (R-GOV-1): counts only, never records. */
export function Catalogue({ loadDatasets, canApply }: { loadDatasets(): Promise<DatasetSummary[]>; canApply: boolean }) {
  const t = useTranslations('home');
  const tLevels = useTranslations('levels');
  const tModality = useTranslations('access.modalities');
  const format = useFormatter();
  const [items, setItems] = useState<DatasetSummary[] | undefined>();
  const [error, setError] = useState<ShownError | undefined>();

  const load = useCallback(() => {
    setError(undefined);
    loadDatasets()
      .then(setItems)
      .catch((err: unknown) => setError(toShownError(err)));
    // loadDatasets is recreated each render; loading once per mount is intended.
  }, []);

  useEffect(() => load(), [load]);

  return (
    <section aria-labelledby="catalogue-title">
      <h2 id="catalogue-title">{t('catalogueTitle')}</h2>
      <p className="muted">{t('catalogueIntro')}</p>
      {error ? (
        <ErrorPanel error={error} onRetry={load} />
      ) : !items ? (
        <p role="status" className="muted">
          {t('loading')}
        </p>
      ) : items.length === 0 ? (
        <p>{t('catalogueEmpty')}</p>
      ) : (
        <div className="table-wrap" role="region" aria-labelledby="catalogue-title" tabIndex={0}>
          <table className="table" data-testid="catalogue">
            <caption className="visually-hidden">{t('catalogueCaption', { count: items.length })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('columns.title')}</th>
                <th scope="col">{t('columns.disease')}</th>
                <th scope="col">{t('columns.level')}</th>
                <th scope="col">{t('columns.modalities')}</th>
                <th scope="col" className="num">
                  {t('columns.patients')}
                </th>
                <th scope="col" className="num">
                  {t('columns.records')}
                </th>
                {canApply ? <th scope="col">{t('columns.access')}</th> : null}
              </tr>
            </thead>
            <tbody>
              {items.map((d) => (
                <tr key={d.datasetId}>
                  <th scope="row">
                    <span className="table__title">{d.title}</span>
                    {d.description ? <span className="table__desc">{d.description}</span> : null}
                  </th>
                  <td>{d.disease}</td>
                  <td>
                    <span className={`level level--${Math.min(5, Math.max(1, d.securityLevel))}`}>
                      {t('levelValue', { level: d.securityLevel })}
                      {tLevels.has(String(d.securityLevel) as '1') ? ` · ${tLevels(String(d.securityLevel) as '1')}` : ''}
                    </span>
                  </td>
                  <td>
                    <ul className="tags">
                      {d.modalities.map((m) => (
                        <li key={m} className="tag tag--muted">
                          {tModality.has(m as 'clinical') ? tModality(m as 'clinical') : m}
                        </li>
                      ))}
                    </ul>
                  </td>
                  <td className="num">{format.number(d.patientCount)}</td>
                  <td className="num">{format.number(d.recordCount)}</td>
                  {canApply ? (
                    <td>
                      {/* R-GOV-1: record-level data needs a request; the entry pre-selects this dataset. */}
                      <Link
                        href={`/access-requests/new/?dataset=${encodeURIComponent(d.datasetId)}`}
                        className="button button--secondary button--small nowrap"
                        data-testid={`apply-${d.datasetId}`}
                        aria-label={t('applyFor', { title: d.title })}
                      >
                        {t('apply')}
                      </Link>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
