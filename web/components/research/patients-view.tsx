'use client';

import Link from 'next/link';
import { useFormatter, useTranslations } from 'next-intl';
import { useCallback, useEffect, useId, useMemo, useState } from 'react';
import { ApiError, type DatasetSummary, type Grant, type ReleaseSummary, type ReleasedPatient } from '../../lib/api-client';
import { daysUntil, purposeKey } from '../../lib/access';
import { excludedTotal, latestGrant, parseExclusionReason, shortToken, usableGrants } from '../../lib/research';
import { ErrorPanel } from '../error-panel';
import { Catalogue } from '../home-view';
import { toShownError, usePortal, type ShownError } from '../portal-provider';
import { ProfilePending, useDateTime } from '../access/access-parts';
import { UnderConstruction } from '../under-construction';
import { CopyButton, useSexLabel } from './research-parts';

/** Rows fetched per "show more". */
const PAGE_SIZE = 20;
/** Wait after the last keystroke before searching. */
const DEBOUNCE_MS = 300;

/**
 * `/patients/` for researchers: pick one of my usable grants, see what it releases and who
 * consent leaves out (R-DSR-2), and search the released, de-identified patients. Without a usable
 * grant: the aggregate catalogue with "apply for access" links (R-GOV-1). Other roles keep the
 * placeholder until their patient pages exist.
 */
export function PatientsView() {
  const { me } = usePortal();
  if (!me) return <ProfilePending />;
  if (!me.roles.includes('researcher')) return <UnderConstruction area="patients" />;
  return <ResearcherPatients />;
}

function ResearcherPatients() {
  const t = useTranslations('research');
  const { api } = usePortal();
  const [grants, setGrants] = useState<Grant[] | undefined>();
  const [datasets, setDatasets] = useState<DatasetSummary[]>([]);
  const [error, setError] = useState<ShownError | undefined>();
  const [selected, setSelected] = useState<string | undefined>();
  const [now, setNow] = useState(() => Date.now());
  const selectId = useId();

  const load = useCallback(() => {
    setError(undefined);
    api
      .grants('mine')
      .then((list) => {
        const at = Date.now();
        setNow(at);
        setGrants(usableGrants(list, at));
      })
      .catch((err: unknown) => setError(toShownError(err)));
    // Titles only; the page works without them.
    api.datasets().then(setDatasets, () => undefined);
  }, [api]);
  useEffect(() => load(), [load]);
  // Keeps the countdown current on a page left open.
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 60_000);
    return () => clearInterval(timer);
  }, []);

  // The selection from the URL (`?grant=`) or the latest usable grant.
  useEffect(() => {
    if (!grants || selected) return;
    const wanted = new URLSearchParams(window.location.search).get('grant');
    setSelected(grants.find((g) => g.grantId === wanted)?.grantId ?? latestGrant(grants)?.grantId);
  }, [grants, selected]);

  const grant = grants?.find((g) => g.grantId === selected);
  const titles = useMemo(() => Object.fromEntries(datasets.map((d) => [d.datasetId, d.title])), [datasets]);

  return (
    <div className="stack">
      <div className="page-head">
        <div>
          <h1>{t('pageTitle')}</h1>
          <p className="muted">{t('intro')}</p>
        </div>
      </div>
      {error ? (
        <ErrorPanel error={error} onRetry={load} />
      ) : !grants ? (
        <p role="status" className="muted">
          {t('loadingGrants')}
        </p>
      ) : grants.length === 0 ? (
        <NoGrant />
      ) : (
        <>
          <section className="card grant-card" aria-labelledby="grant-title" data-testid="grant-panel">
            <div className="section-head">
              <h2 id="grant-title">{t('grantTitle')}</h2>
              {grants.length > 1 ? (
                <div className="field field--inline">
                  <label htmlFor={selectId} className="field__label">
                    {t('chooseGrant')}
                  </label>
                  <select
                    id={selectId}
                    className="select select--field"
                    data-testid="grant-select"
                    value={selected ?? ''}
                    onChange={(e) => {
                      setSelected(e.target.value);
                      const url = new URL(window.location.href);
                      url.searchParams.set('grant', e.target.value);
                      window.history.replaceState(null, '', url);
                    }}
                  >
                    {grants.map((g) => (
                      <option key={g.grantId} value={g.grantId}>
                        {g.grantId} · {g.scope.datasetIds.join(', ')}
                      </option>
                    ))}
                  </select>
                </div>
              ) : null}
            </div>
            {grant ? <GrantFacts key={grant.grantId} grant={grant} titles={titles} now={now} /> : null}
          </section>
          {grant ? <GrantData key={grant.grantId} grant={grant} titles={titles} /> : null}
        </>
      )}
    </div>
  );
}

/** No usable grant: say so, and show what exists at an aggregate level (R-GOV-1). */
function NoGrant() {
  const t = useTranslations('research');
  const { api } = usePortal();
  return (
    <>
      <section className="card card--attention" aria-labelledby="no-grant-title" data-testid="no-grant">
        <h2 id="no-grant-title">{t('noGrantTitle')}</h2>
        <p>{t('noGrantBody')}</p>
        <p className="form__actions">
          <Link href="/access-requests/new/" className="button">
            {t('newRequest')}
          </Link>
          <Link href="/grants/" className="button button--secondary">
            {t('myGrants')}
          </Link>
        </p>
      </section>
      <Catalogue loadDatasets={() => api.datasets()} canApply />
    </>
  );
}

function GrantFacts({ grant, titles, now }: { grant: Grant; titles: Record<string, string>; now: number }) {
  const t = useTranslations('research');
  const tLevels = useTranslations('levels');
  const tAccess = useTranslations('access');
  const when = useDateTime();
  const days = daysUntil(grant.expiresAt, now);
  const level = Math.min(5, Math.max(1, grant.dataLevel));
  const purpose = purposeKey(grant.purposeCode);
  return (
    <dl className="facts facts--compact" data-testid="grant-facts" data-grant-id={grant.grantId}>
      <div className="facts__row">
        <dt>{t('grant')}</dt>
        <dd>
          <span className="mono">{grant.grantId}</span>
          <span className="table__desc">
            <Link href={`/access-requests/view/?id=${encodeURIComponent(grant.requestId)}`}>{grant.requestId}</Link>
          </span>
        </dd>
      </div>
      <div className="facts__row">
        <dt>{t('datasets')}</dt>
        <dd>
          <ul className="plain-list">
            {grant.scope.datasetIds.map((id) => (
              <li key={id}>
                <span className="mono">{id}</span>
                {titles[id] ? ` — ${titles[id]}` : ''}
              </li>
            ))}
          </ul>
          {grant.scope.modalities.length > 0 ? (
            <span className="table__desc">{grant.scope.modalities.map((m) => (tAccess.has(`modalities.${m}`) ? tAccess(`modalities.${m}`) : m)).join(' · ')}</span>
          ) : (
            <span className="table__desc">{tAccess('detail.allModalities')}</span>
          )}
        </dd>
      </div>
      <div className="facts__row">
        <dt>{t('purpose')}</dt>
        <dd>
          {grant.purposeCode}
          {tAccess.has(`purposes.${purpose}`) ? ` · ${tAccess(`purposes.${purpose}`)}` : ''}
        </dd>
      </div>
      <div className="facts__row">
        <dt>{t('level')}</dt>
        <dd>
          <span className={`level level--${level}`}>
            {t('levelValue', { level: grant.dataLevel })} · {tLevels(String(level) as '1')}
          </span>
        </dd>
      </div>
      <div className="facts__row">
        <dt>{t('validUntil')}</dt>
        <dd>
          {when(grant.expiresAt, true)}
          <span className={`countdown ${days <= 14 ? 'countdown--soon' : ''}`} data-testid="grant-countdown">
            {days > 0 ? t('expiresIn', { days }) : t('expiresToday')}
          </span>
        </dd>
      </div>
    </dl>
  );
}

/** The release summary, then the search over the released patients. */
function GrantData({ grant, titles }: { grant: Grant; titles: Record<string, string> }) {
  const t = useTranslations('research');
  const { api } = usePortal();
  const [release, setRelease] = useState<ReleaseSummary | undefined>();
  const [preparing, setPreparing] = useState(false);
  const [error, setError] = useState<ShownError | undefined>();
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setError(undefined);
    // The release is built asynchronously when the grant is issued: 404 means "not yet", so poll.
    const fetchOnce = (tries: number) => {
      api
        .grantRelease(grant.grantId)
        .then((r) => {
          if (cancelled) return;
          setPreparing(false);
          setRelease(r);
        })
        .catch((err: unknown) => {
          if (cancelled) return;
          if (err instanceof ApiError && err.status === 404 && tries < 40) {
            setPreparing(true);
            timer = setTimeout(() => fetchOnce(tries + 1), 1500);
          } else {
            setPreparing(false);
            setError(toShownError(err));
          }
        });
    };
    fetchOnce(0);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [api, grant.grantId, attempt]);

  if (error) {
    const forbidden = error.code === 'FORBIDDEN';
    return <ErrorPanel title={forbidden ? t('grantUnusable') : undefined} error={error} onRetry={() => setAttempt((n) => n + 1)} />;
  }
  if (!release) {
    return (
      <p role="status" className="muted" data-testid="release-loading">
        {preparing ? t('releasePreparing') : t('releaseLoading')}
      </p>
    );
  }
  return (
    <>
      <ReleaseSummaryPanel release={release} />
      <PatientSearch grant={grant} titles={titles} />
    </>
  );
}

function ReleaseSummaryPanel({ release }: { release: ReleaseSummary }) {
  const t = useTranslations('research');
  const tPurposes = useTranslations('access.purposes');
  const format = useFormatter();
  const when = useDateTime();
  const left = excludedTotal(release.excluded);
  const reasons = Object.entries(release.excluded).sort((a, b) => b[1] - a[1]);
  const duo = (code: string) => {
    const key = purposeKey(code);
    return tPurposes.has(key as 'DUO_0000007') ? `${code} (${tPurposes(key as 'DUO_0000007')})` : code;
  };
  return (
    <section aria-labelledby="release-title" data-testid="release-summary" data-included={release.included} data-excluded={left}>
      <h2 id="release-title">{t('releaseTitle')}</h2>
      <div className="release">
        <p className="release__headline">
          <strong>{t('released', { count: release.included })}</strong>
          {left > 0 ? ` ${t('leftOut', { count: left })}` : ` ${t('noneLeftOut')}`}
        </p>
        {reasons.length > 0 ? (
          <ul className="release__reasons" data-testid="release-reasons">
            {reasons.map(([reason, count]) => {
              const parsed = parseExclusionReason(reason);
              const text =
                parsed.key === 'notCovered'
                  ? t('reasons.notCovered', { consent: duo(parsed.values.consent!), purpose: duo(parsed.values.purpose!) })
                  : parsed.key === 'other'
                    ? parsed.values.reason!
                    : t(`reasons.${parsed.key}`);
              return (
                <li key={reason} data-reason={reason}>
                  <span className="release__count">{format.number(count)}</span> {text}
                </li>
              );
            })}
          </ul>
        ) : null}
        <p className="muted small">
          {t('releasePolicy', { policy: release.policyId, time: when(release.builtAt) })}
        </p>
      </div>
    </section>
  );
}

function PatientSearch({ grant, titles }: { grant: Grant; titles: Record<string, string> }) {
  const t = useTranslations('research');
  const sexLabel = useSexLabel();
  const { api } = usePortal();
  const inputId = useId();
  const hintId = useId();
  const [query, setQuery] = useState('');
  const [debounced, setDebounced] = useState('');
  const [limit, setLimit] = useState(PAGE_SIZE);
  const [result, setResult] = useState<{ q: string; items: ReleasedPatient[]; total: number } | undefined>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShownError | undefined>();
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const timer = setTimeout(() => {
      setDebounced(query.trim());
      setLimit(PAGE_SIZE);
    }, DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [query]);

  useEffect(() => {
    let cancelled = false;
    setBusy(true);
    setError(undefined);
    api
      .grantPatients(grant.grantId, debounced, limit)
      .then((r) => {
        if (!cancelled) setResult({ q: debounced, ...r });
      })
      .catch((err: unknown) => {
        if (!cancelled) setError(toShownError(err));
      })
      .finally(() => {
        if (!cancelled) setBusy(false);
      });
    return () => {
      cancelled = true;
    };
  }, [api, grant.grantId, debounced, limit, attempt]);

  const viewHref = (token: string) => `/patients/view/?grant=${encodeURIComponent(grant.grantId)}&token=${encodeURIComponent(token)}`;

  return (
    <section aria-labelledby="search-title">
      <h2 id="search-title">{t('searchTitle')}</h2>
      <form className="search" role="search" onSubmit={(e) => e.preventDefault()}>
        <label htmlFor={inputId} className="field__label">
          {t('searchLabel')}
        </label>
        <input
          id={inputId}
          type="search"
          className="input search__input"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          aria-describedby={hintId}
          maxLength={200}
          autoComplete="off"
          spellCheck={false}
          data-testid="patient-search"
        />
        <p id={hintId} className="field__hint">
          {t('searchHint')}
        </p>
      </form>
      <p role="status" aria-live="polite" className="search__count" data-testid="result-count">
        {result ? (result.q ? t('resultCountFor', { count: result.total, q: result.q }) : t('resultCount', { count: result.total })) : t('searching')}
      </p>
      {error ? (
        <ErrorPanel error={error} onRetry={() => setAttempt((n) => n + 1)} />
      ) : result && result.items.length > 0 ? (
        <>
          <div className="table-wrap" role="region" aria-label={t('tableCaption', { shown: result.items.length, total: result.total })} tabIndex={0}>
            <table className="table" data-testid="patient-results" aria-busy={busy || undefined}>
              <caption className="visually-hidden">{t('tableCaption', { shown: result.items.length, total: result.total })}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('columns.pseudonym')}</th>
                  <th scope="col">{t('columns.dataset')}</th>
                  <th scope="col">{t('columns.sex')}</th>
                  <th scope="col">{t('columns.ageBand')}</th>
                  <th scope="col">{t('columns.diagnosis')}</th>
                  <th scope="col">{t('columns.stage')}</th>
                  <th scope="col">{t('columns.subtype')}</th>
                </tr>
              </thead>
              <tbody>
                {result.items.map((p) => (
                  <tr key={p.token} data-token={p.token}>
                    <th scope="row" className="nowrap">
                      <span className="token">
                        <Link href={viewHref(p.token)} className="mono" title={p.token} aria-label={t('openPatient', { token: shortToken(p.token) })} data-testid="open-patient">
                          {shortToken(p.token)}
                        </Link>
                        <CopyButton value={p.token} label={t('copyToken', { token: shortToken(p.token) })} />
                      </span>
                    </th>
                    <td className="nowrap">
                      <span className="mono" title={titles[p.datasetId]}>
                        {p.datasetId}
                      </span>
                    </td>
                    <td>{sexLabel(p.sex)}</td>
                    <td className="nowrap">{p.ageBand ?? '—'}</td>
                    <td>{p.diagnosis ?? '—'}</td>
                    <td className="nowrap">{p.stage ?? '—'}</td>
                    <td className="nowrap">{p.molecularSubtype ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="search__more">
            <p className="muted small">{t('shownOf', { shown: result.items.length, total: result.total })}</p>
            {result.items.length < result.total ? (
              <button type="button" className="button button--secondary" disabled={busy} onClick={() => setLimit((n) => Math.min(500, n + PAGE_SIZE))} data-testid="show-more">
                {busy ? t('loadingMore') : t('showMore')}
              </button>
            ) : null}
          </div>
        </>
      ) : result ? (
        <p className="muted" data-testid="no-results">
          {result.q ? t('noResultsFor', { q: result.q }) : t('noPatients')}
        </p>
      ) : null}
    </section>
  );
}
