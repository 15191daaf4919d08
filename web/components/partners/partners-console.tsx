'use client';

import { useFormatter, useTranslations } from 'next-intl';
import { useCallback, useEffect, useState } from 'react';
import { ApiError } from '../../lib/api-client';
import { hasAnyRole } from '../../lib/access';
import { listPartners, revokePartnerKey, rotatePartnerKey, type Partner } from '../../lib/partners-api';
import { ProfilePending } from '../access/access-parts';
import { ErrorPanel } from '../error-panel';
import { toShownError, usePortal, type ShownError } from '../portal-provider';
import { OnboardPartnerForm } from './onboard-partner-form';
import styles from './partners.module.css';
import { SecretReveal, type RevealedSecret } from './secret-reveal';
import { PartnerWebhooks } from './partner-webhooks';

/** Roles the API lets manage partners (`ManagePartners`). */
const PARTNER_ADMIN_ROLES = ['security-admin'] as const;

/**
 * `/partners/`: partner administration for security admins (R-INT-1, R-SEC-7) — onboarding with
 * the API key and OAuth client secret shown once, the partner list with keys and status, key
 * revocation and rotation, and each partner's webhook endpoints with their delivery log.
 * Anyone the API refuses sees "not authorized" and no data.
 */
export function PartnersConsole() {
  const { me } = usePortal();
  if (!me) return <ProfilePending />;
  return <PartnersConsoleBody roles={me.roles} />;
}

function PartnersConsoleBody({ roles }: { roles: string[] }) {
  const t = useTranslations('partners');
  const { api } = usePortal();
  const format = useFormatter();
  const [partners, setPartners] = useState<Partner[] | undefined>();
  const [error, setError] = useState<ShownError | undefined>();
  const [forbidden, setForbidden] = useState<ShownError | undefined>();
  const [busy, setBusy] = useState(false);
  const [secrets, setSecrets] = useState<{ title: string; items: RevealedSecret[] } | undefined>();
  const [confirmRevoke, setConfirmRevoke] = useState<string | undefined>();
  const [webhooksOf, setWebhooksOf] = useState<string | undefined>();
  const [actionError, setActionError] = useState<ShownError | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const when = (iso?: string) => (iso ? format.dateTime(new Date(iso), { dateStyle: 'medium', timeStyle: 'short' }) : '—');

  const fail = useCallback((err: unknown, set: (e: ShownError) => void) => {
    if (err instanceof ApiError && err.status === 403) setForbidden(toShownError(err));
    else set(toShownError(err));
  }, []);

  const load = useCallback(async () => {
    setBusy(true);
    setError(undefined);
    try {
      setPartners(await listPartners(api));
    } catch (err) {
      fail(err, setError);
    } finally {
      setBusy(false);
    }
  }, [api, fail]);
  useEffect(() => {
    void load();
  }, [load]);

  async function revoke(partner: Partner, keyId: string) {
    setActionError(undefined);
    setNotice(undefined);
    try {
      const updated = await revokePartnerKey(api, partner.partnerId, keyId);
      setPartners((list) => list?.map((p) => (p.partnerId === updated.partnerId ? updated : p)));
      setNotice(t('keys.revoked', { keyId, name: partner.name }));
    } catch (err) {
      fail(err, setActionError);
    } finally {
      setConfirmRevoke(undefined);
    }
  }

  async function rotate(partner: Partner) {
    setActionError(undefined);
    setNotice(undefined);
    try {
      const out = await rotatePartnerKey(api, partner.partnerId);
      setPartners((list) => list?.map((p) => (p.partnerId === out.partner.partnerId ? out.partner : p)));
      setSecrets({ title: t('secrets.rotatedTitle', { name: partner.name }), items: [{ label: t('secrets.apiKey'), value: out.apiKey }] });
    } catch (err) {
      fail(err, setActionError);
    }
  }

  const head = (
    <div className="page-head">
      <div>
        <h1>{t('pageTitle')}</h1>
        <p className="muted">{t('intro')}</p>
      </div>
    </div>
  );

  if (forbidden) {
    return (
      <div className="stack">
        {head}
        <div className="notice notice--error" role="alert" data-testid="partners-forbidden">
          <h2 className="notice__title">{t('forbiddenTitle')}</h2>
          <p>{t('forbiddenBody')}</p>
          <p className="muted small">
            {t('errorCode')}: <code>{forbidden.code}</code>
          </p>
        </div>
      </div>
    );
  }

  // Hiding the console is a convenience; the API decides. Without the role, nothing is shown until
  // the API has answered the list call (a refusal then shows "not authorized").
  if (!hasAnyRole(roles, PARTNER_ADMIN_ROLES) && partners === undefined) {
    return (
      <div className="stack">
        {head}
        {error ? <ErrorPanel error={error} onRetry={() => void load()} /> : <p role="status" className="muted">{t('roleHint')}</p>}
      </div>
    );
  }

  return (
    <div className="stack" data-testid="partners-console">
      {head}
      {secrets ? <SecretReveal title={secrets.title} secrets={secrets.items} onDismiss={() => setSecrets(undefined)} /> : null}

      <OnboardPartnerForm
        onOnboarded={(out) => {
          setPartners((list) => [out.partner, ...(list ?? []).filter((p) => p.partnerId !== out.partner.partnerId)]);
          setSecrets({
            title: t('secrets.onboardedTitle', { name: out.partner.name }),
            items: [
              { label: t('secrets.apiKey'), value: out.apiKey },
              { label: t('secrets.clientId'), value: out.oauthClient.clientId },
              { label: t('secrets.clientSecret'), value: out.oauthClient.clientSecret },
              ...(out.oauthClient.tokenEndpoint ? [{ label: t('secrets.tokenEndpoint'), value: out.oauthClient.tokenEndpoint }] : []),
            ],
          });
        }}
        onForbidden={setForbidden}
      />

      <section aria-labelledby="partners-list-title" className="stack">
        <div className="section-head">
          <h2 id="partners-list-title">{t('list.title')}</h2>
          <button type="button" className="button button--secondary button--small" onClick={() => void load()} disabled={busy}>
            {t('list.reload')}
          </button>
        </div>
        <p role="status" aria-live="polite" className="muted" data-testid="partners-status">
          {busy ? t('list.loading') : partners ? (partners.length === 0 ? t('list.empty') : t('list.count', { count: partners.length })) : ''}
        </p>
        {notice ? (
          <p className="notice notice--success" role="status" data-testid="partners-notice">
            {notice}
          </p>
        ) : null}
        {error ? <ErrorPanel error={error} onRetry={() => void load()} /> : null}
        {actionError ? <ErrorPanel error={actionError} /> : null}
        {partners && partners.length > 0 ? (
          <div className="table-wrap" role="region" aria-labelledby="partners-list-title" tabIndex={0}>
            <table className="table" data-testid="partners-table">
              <caption className="visually-hidden">{t('list.caption', { count: partners.length })}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('list.columns.partner')}</th>
                  <th scope="col">{t('list.columns.institution')}</th>
                  <th scope="col">{t('list.columns.scopes')}</th>
                  <th scope="col">{t('list.columns.status')}</th>
                  <th scope="col">{t('list.columns.keys')}</th>
                  <th scope="col">{t('list.columns.actions')}</th>
                </tr>
              </thead>
              <tbody>
                {partners.map((p) => (
                  <tr key={p.partnerId} data-partner-id={p.partnerId}>
                    <th scope="row">
                      {p.name}
                      <span className="table__desc">
                        <code>{p.partnerId}</code> · {t('list.plan', { plan: p.plan })}
                      </span>
                    </th>
                    <td>{p.institution}</td>
                    <td>
                      <ul className={styles.keys}>
                        {p.scopes.map((s) => (
                          <li key={s}>
                            <code>{s}</code>
                          </li>
                        ))}
                      </ul>
                    </td>
                    <td>
                      <span className={`badge ${p.status === 'active' ? 'badge--approved' : 'badge--rejected'}`}>{t(`status.${p.status}`)}</span>
                    </td>
                    <td>
                      <ul className={styles.keys} aria-label={t('keys.listLabel', { name: p.name })}>
                        {p.keys.map((k) => (
                          <li key={k.keyId} data-key-id={k.keyId} data-key-status={k.status}>
                            <code>{k.keyId}</code>
                            <span className={`badge ${k.status === 'active' ? 'badge--approved' : k.status === 'retiring' ? 'badge--more-info' : 'badge--rejected'}`}>{t(`keys.status.${k.status}`)}</span>
                            <span className="muted small">
                              {k.status === 'retiring' && k.graceUntil ? t('keys.graceUntil', { at: when(k.graceUntil) }) : k.revokedAt ? t('keys.revokedAt', { at: when(k.revokedAt) }) : t('keys.issuedAt', { at: when(k.issuedAt) })}
                            </span>
                            {k.status !== 'revoked' ? (
                              confirmRevoke === k.keyId ? (
                                <span className={styles.actions}>
                                  <button type="button" className="button button--danger button--small" onClick={() => void revoke(p, k.keyId)} data-testid="confirm-revoke">
                                    {t('keys.confirmRevoke')}
                                  </button>
                                  <button type="button" className="button button--secondary button--small" onClick={() => setConfirmRevoke(undefined)}>
                                    {t('keys.cancel')}
                                  </button>
                                </span>
                              ) : (
                                <button type="button" className="button button--secondary button--small" onClick={() => setConfirmRevoke(k.keyId)} aria-label={t('keys.revokeLabel', { keyId: k.keyId })} data-testid="revoke-key">
                                  {t('keys.revoke')}
                                </button>
                              )
                            ) : null}
                          </li>
                        ))}
                      </ul>
                    </td>
                    <td>
                      <div className={styles.actions}>
                        <button type="button" className="button button--secondary button--small" onClick={() => void rotate(p)} aria-label={t('keys.rotateLabel', { name: p.name })} data-testid="rotate-key">
                          {t('keys.rotate')}
                        </button>
                        <button
                          type="button"
                          className="button button--secondary button--small"
                          aria-expanded={webhooksOf === p.partnerId}
                          aria-controls="partner-webhooks"
                          onClick={() => setWebhooksOf((cur) => (cur === p.partnerId ? undefined : p.partnerId))}
                          aria-label={t('webhooks.toggleLabel', { name: p.name })}
                          data-testid="toggle-webhooks"
                        >
                          {t('webhooks.toggle')}
                        </button>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>

      {webhooksOf && partners?.some((p) => p.partnerId === webhooksOf) ? (
        <PartnerWebhooks
          partner={partners.find((p) => p.partnerId === webhooksOf)!}
          onSecret={(title, items) => setSecrets({ title, items })}
          onForbidden={setForbidden}
        />
      ) : null}
    </div>
  );
}
