'use client';

import Link from 'next/link';
import { useTranslations } from 'next-intl';
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import type { Grant } from '../../lib/api-client';
import { GRANT_OVERSIGHT_ROLES, GRANT_REVOKER_ROLES, LIMITS, checkLength, daysUntil, fieldErrorsFromApi, hasAnyRole, type FieldErrors } from '../../lib/access';
import { ErrorPanel } from '../error-panel';
import { toShownError, usePortal, type ShownError } from '../portal-provider';
import { RenewalForm, RenewalHistory } from './grant-renewal';
import { FieldError, ProfilePending, TimeZoneNote, describedBy, useDateTime } from './access-parts';

/**
 * `/grants/`: a researcher's own grants with the time left (R-GOV-5); approvers, security admins
 * and auditors see every grant (R-GOV-6), and approvers / security admins can revoke early.
 */
export function GrantsView() {
  const t = useTranslations('grants');
  const { me } = usePortal();
  const roles = me?.roles ?? [];
  const oversight = hasAnyRole(roles, GRANT_OVERSIGHT_ROLES);
  const canRevoke = hasAnyRole(roles, GRANT_REVOKER_ROLES);
  if (!me) return <ProfilePending />;
  return (
    <div className="stack">
      <div className="page-head">
        <div>
          <h1>{t('pageTitle')}</h1>
          <p className="muted">{t('intro')}</p>
        </div>
      </div>
      {roles.includes('researcher') ? <GrantList view="mine" title={t('mine')} canRevoke={false} testId="my-grants" /> : null}
      {oversight ? <GrantList view="all" title={t('all')} canRevoke={canRevoke} testId="all-grants" /> : null}
    </div>
  );
}

function GrantList({ view, title, canRevoke, testId }: { view: 'mine' | 'all'; title: string; canRevoke: boolean; testId: string }) {
  const t = useTranslations('grants');
  const tRenewal = useTranslations('renewal');
  const tLevels = useTranslations('levels');
  const tModality = useTranslations('access.modalities');
  const when = useDateTime();
  const { api } = usePortal();
  const [items, setItems] = useState<Grant[] | undefined>();
  const [error, setError] = useState<ShownError | undefined>();
  const [revoking, setRevoking] = useState<string | undefined>();
  // R-GOV-5: the holder's own grants offer a renewal (continuing review).
  const canRenew = view === 'mine';
  const [renewing, setRenewing] = useState<string | undefined>();
  const [announce, setAnnounce] = useState('');
  // Re-rendered every minute so the countdown stays current on a page left open.
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 60_000);
    return () => clearInterval(timer);
  }, []);

  const load = useCallback(() => {
    setError(undefined);
    api
      .grants(view)
      .then((list) => {
        setItems(list);
        setNow(Date.now());
      })
      .catch((err: unknown) => setError(toShownError(err)));
  }, [api, view]);
  useEffect(() => load(), [load]);

  const headingId = `${testId}-title`;
  const showHolder = view === 'all';
  return (
    <section aria-labelledby={headingId}>
      <div className="section-head">
        <h2 id={headingId}>{title}</h2>
        <button type="button" className="button button--secondary button--small" onClick={load}>
          {t('reload')}
        </button>
      </div>
      <p role="status" aria-live="polite" className="visually-hidden">
        {announce}
      </p>
      {error ? (
        <ErrorPanel error={error} onRetry={load} />
      ) : !items ? (
        <p role="status" className="muted">
          {t('loading')}
        </p>
      ) : items.length === 0 ? (
        <p className="muted" data-testid={`${testId}-empty`}>
          {view === 'mine' ? t('emptyMine') : t('emptyAll')}
        </p>
      ) : (
        <>
          <div className="table-wrap" role="region" aria-labelledby={headingId} tabIndex={0}>
            <table className="table" data-testid={testId}>
              <caption className="visually-hidden">{t('caption', { title, count: items.length })}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('columns.grant')}</th>
                  {showHolder ? <th scope="col">{t('columns.holder')}</th> : null}
                  <th scope="col">{t('columns.scope')}</th>
                  <th scope="col">{t('columns.level')}</th>
                  <th scope="col">{t('columns.validity')}</th>
                  <th scope="col">{t('columns.status')}</th>
                  {canRevoke || canRenew ? <th scope="col">{t('columns.actions')}</th> : null}
                </tr>
              </thead>
              <tbody>
                {items.map((g) => {
                  const days = daysUntil(g.expiresAt, now);
                  const level = Math.min(5, Math.max(1, g.dataLevel));
                  return (
                    <tr key={g.grantId} data-grant-id={g.grantId} data-request-id={g.requestId}>
                      <th scope="row">
                        <span className="mono table__title">{g.grantId}</span>
                        <span className="table__desc">
                          <Link href={`/access-requests/view/?id=${encodeURIComponent(g.requestId)}`}>{g.requestId}</Link>
                        </span>
                      </th>
                      {showHolder ? (
                        <td>
                          {g.holderName}
                          <span className="table__desc">{g.institution}</span>
                        </td>
                      ) : null}
                      <td>
                        <ul className="plain-list mono">
                          {g.scope.datasetIds.map((id) => (
                            <li key={id}>{id}</li>
                          ))}
                        </ul>
                        {g.scope.modalities.length > 0 ? <span className="table__desc">{g.scope.modalities.map((m) => (tModality.has(m as 'clinical') ? tModality(m as 'clinical') : m)).join(' · ')}</span> : null}
                      </td>
                      <td>
                        <span className={`level level--${level}`}>
                          {t('levelValue', { level: g.dataLevel })} · {tLevels(String(level) as '1')}
                        </span>
                      </td>
                      <td className="nowrap">
                        {when(g.startsAt)} –<br />
                        {when(g.expiresAt)}
                        {g.status === 'active' ? (
                          <span className={`countdown ${days <= 14 ? 'countdown--soon' : ''}`} data-testid="countdown">
                            {days > 0 ? t('expiresIn', { days }) : t('expiresToday')}
                          </span>
                        ) : null}
                        <RenewalHistory grant={g} />
                      </td>
                      <td>
                        <span className={`badge badge--grant-${g.status}`} data-testid="grant-status" data-status={g.status}>
                          {t(`statuses.${g.status}`)}
                        </span>
                        {g.status === 'revoked' && g.revokeReason ? <span className="table__desc">{t('revokedBecause', { reason: g.revokeReason })}</span> : null}
                      </td>
                      {canRevoke ? (
                        <td>
                          {g.status === 'active' ? (
                            revoking === g.grantId ? (
                              <RevokeForm
                                grant={g}
                                onCancel={() => setRevoking(undefined)}
                                onRevoked={(updated) => {
                                  setRevoking(undefined);
                                  setItems((list) => list?.map((x) => (x.grantId === updated.grantId ? updated : x)));
                                  setAnnounce(t('revoked', { grantId: updated.grantId }));
                                }}
                              />
                            ) : (
                              <button type="button" className="button button--secondary button--small" onClick={() => setRevoking(g.grantId)}>
                                {t('revoke')}
                                <span className="visually-hidden"> {g.grantId}</span>
                              </button>
                            )
                          ) : (
                            '—'
                          )}
                        </td>
                      ) : null}
                      {canRenew && !canRevoke ? (
                        <td>
                          {g.status !== 'revoked' ? (
                            renewing === g.grantId ? (
                              <RenewalForm grant={g} onCancel={() => setRenewing(undefined)} />
                            ) : (
                              <button type="button" className="button button--secondary button--small" onClick={() => setRenewing(g.grantId)} data-testid="request-renewal">
                                {tRenewal('request')}
                                <span className="visually-hidden"> {g.grantId}</span>
                              </button>
                            )
                          ) : (
                            '—'
                          )}
                        </td>
                      ) : null}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <TimeZoneNote />
        </>
      )}
    </section>
  );
}

/** Early revocation with a reason (5..2000 characters, as the API requires). */
function RevokeForm({ grant, onCancel, onRevoked }: { grant: Grant; onCancel(): void; onRevoked(g: Grant): void }) {
  const t = useTranslations('grants');
  const { api } = usePortal();
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<ShownError | undefined>();
  const [busy, setBusy] = useState(false);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const id = `revoke-${grant.grantId}`;

  useEffect(() => inputRef.current?.focus(), []);

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (busy) return;
    const problem = checkLength(reason, LIMITS.revokeReason);
    setErrors(problem ? { reason: problem } : {});
    setFormError(undefined);
    if (problem) {
      inputRef.current?.focus();
      return;
    }
    setBusy(true);
    try {
      onRevoked(await api.revokeGrant(grant.grantId, reason.trim()));
    } catch (err) {
      const mapped = fieldErrorsFromApi(err, ['reason']);
      if (mapped) setErrors(mapped);
      else setFormError(toShownError(err));
      setBusy(false);
    }
  }

  return (
    <form className="form form--compact" onSubmit={(e) => void onSubmit(e)} noValidate>
      {formError ? <ErrorPanel error={formError} /> : null}
      <div className="field">
        <label htmlFor={id} className="field__label">
          {t('reason', { grantId: grant.grantId })}
        </label>
        <textarea
          id={id}
          ref={inputRef}
          className="input textarea"
          rows={2}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          aria-invalid={errors.reason ? true : undefined}
          aria-describedby={describedBy(errors.reason && `${id}-error`)}
          required
        />
        <FieldError id={`${id}-error`} problem={errors.reason} />
      </div>
      <div className="form__actions">
        <button type="submit" className="button button--danger button--small" disabled={busy}>
          {busy ? t('revoking') : t('confirmRevoke')}
        </button>
        <button type="button" className="button button--secondary button--small" onClick={onCancel}>
          {t('cancel')}
        </button>
      </div>
    </form>
  );
}
