'use client';

import { useFormatter, useTranslations } from 'next-intl';
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ApiError } from '../../lib/api-client';
import {
  deletePartnerWebhook,
  listPartnerWebhooks,
  listWebhookDeliveries,
  registerPartnerWebhook,
  WEBHOOK_EVENT_TYPES,
  type Partner,
  type WebhookDelivery,
  type WebhookEndpoint,
  type WebhookEventType,
} from '../../lib/partners-api';
import { ErrorPanel } from '../error-panel';
import { toShownError, usePortal, type ShownError } from '../portal-provider';
import type { RevealedSecret } from './secret-reveal';
import styles from './partners.module.css';

/**
 * A partner's webhook endpoints (R-INT-1 integration events): register (the signing secret is
 * shown once), remove, and read each endpoint's delivery log (attempts and status codes).
 */
export function PartnerWebhooks({ partner, onSecret, onForbidden }: { partner: Partner; onSecret(title: string, items: RevealedSecret[]): void; onForbidden(e: ShownError): void }) {
  const t = useTranslations('partners.webhooks');
  const { api } = usePortal();
  const format = useFormatter();
  const when = (iso?: string) => (iso ? format.dateTime(new Date(iso), { dateStyle: 'short', timeStyle: 'medium' }) : '—');
  const [items, setItems] = useState<WebhookEndpoint[] | undefined>();
  const [error, setError] = useState<ShownError | undefined>();
  const [url, setUrl] = useState('');
  const [types, setTypes] = useState<WebhookEventType[]>([...WEBHOOK_EVENT_TYPES]);
  const [formError, setFormError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [logOf, setLogOf] = useState<string | undefined>();
  const [log, setLog] = useState<WebhookDelivery[] | undefined>();

  const fail = useCallback(
    (err: unknown, set: (e: ShownError) => void) => {
      if (err instanceof ApiError && err.status === 403) onForbidden(toShownError(err));
      else set(toShownError(err));
    },
    [onForbidden],
  );

  const load = useCallback(async () => {
    setError(undefined);
    try {
      setItems(await listPartnerWebhooks(api, partner.partnerId));
    } catch (err) {
      fail(err, setError);
    }
  }, [api, partner.partnerId, fail]);
  useEffect(() => {
    setItems(undefined);
    setLogOf(undefined);
    void load();
  }, [load]);

  async function showLog(endpointId: string) {
    if (logOf === endpointId) {
      setLogOf(undefined);
      return;
    }
    setLogOf(endpointId);
    setLog(undefined);
    try {
      setLog(await listWebhookDeliveries(api, partner.partnerId, endpointId));
    } catch (err) {
      fail(err, setError);
    }
  }

  async function register(ev: FormEvent) {
    ev.preventDefault();
    setFormError(undefined);
    if (!/^https?:\/\/\S+$/.test(url.trim())) return setFormError(t('errors.url'));
    if (types.length === 0) return setFormError(t('errors.types'));
    setBusy(true);
    try {
      const out = await registerPartnerWebhook(api, partner.partnerId, { url: url.trim(), eventTypes: types });
      setItems((cur) => [...(cur ?? []), out.endpoint]);
      setUrl('');
      onSecret(t('secretTitle', { name: partner.name }), [
        { label: t('secretLabel'), value: out.secret },
        { label: t('endpointLabel'), value: out.endpoint.endpointId },
      ]);
    } catch (err) {
      if (err instanceof ApiError && err.status === 400) setFormError(err.message);
      else fail(err, setError);
    } finally {
      setBusy(false);
    }
  }

  async function remove(endpointId: string) {
    try {
      await deletePartnerWebhook(api, partner.partnerId, endpointId);
      setItems((cur) => cur?.filter((e) => e.endpointId !== endpointId));
      if (logOf === endpointId) setLogOf(undefined);
    } catch (err) {
      fail(err, setError);
    }
  }

  return (
    <section id="partner-webhooks" aria-labelledby="webhooks-title" className={`card stack ${styles.webhooks}`} data-testid="partner-webhooks">
      <h2 id="webhooks-title">{t('title', { name: partner.name })}</h2>
      <p className="muted">{t('intro')}</p>
      {error ? <ErrorPanel error={error} onRetry={() => void load()} /> : null}
      <p role="status" aria-live="polite" className="muted">
        {items ? (items.length === 0 ? t('empty') : t('count', { count: items.length })) : t('loading')}
      </p>
      {items && items.length > 0 ? (
        <div className="table-wrap" role="region" aria-labelledby="webhooks-title" tabIndex={0}>
          <table className="table" data-testid="webhooks-table">
            <caption className="visually-hidden">{t('caption', { name: partner.name })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('columns.url')}</th>
                <th scope="col">{t('columns.events')}</th>
                <th scope="col">{t('columns.secret')}</th>
                <th scope="col">{t('columns.created')}</th>
                <th scope="col">{t('columns.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((e) => (
                <tr key={e.endpointId} data-endpoint-id={e.endpointId}>
                  <th scope="row">
                    <code>{e.url}</code>
                    <span className="table__desc">
                      <code>{e.endpointId}</code>
                    </span>
                  </th>
                  <td>{e.eventTypes.map((x) => t(`events.${x.replace(/[.-]/g, '_')}`)).join(', ')}</td>
                  <td>
                    <code>…{e.secretHint}</code>
                  </td>
                  <td className="nowrap">{when(e.createdAt)}</td>
                  <td>
                    <div className={styles.actions}>
                      <button type="button" className="button button--secondary button--small" aria-expanded={logOf === e.endpointId} onClick={() => void showLog(e.endpointId)} data-testid="show-deliveries">
                        {t('deliveries')}
                      </button>
                      <button type="button" className="button button--danger button--small" onClick={() => void remove(e.endpointId)} aria-label={t('removeLabel', { url: e.url })}>
                        {t('remove')}
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}

      {logOf ? (
        <div className="stack" data-testid="deliveries">
          <h3 id="deliveries-title">{t('log.title')}</h3>
          {!log ? (
            <p className="muted">{t('loading')}</p>
          ) : log.length === 0 ? (
            <p className="muted">{t('log.empty')}</p>
          ) : (
            <div className="table-wrap" role="region" aria-labelledby="deliveries-title" tabIndex={0}>
              <table className="table">
                <caption className="visually-hidden">{t('log.title')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('log.event')}</th>
                    <th scope="col">{t('log.status')}</th>
                    <th scope="col">{t('log.attempts')}</th>
                    <th scope="col">{t('log.created')}</th>
                  </tr>
                </thead>
                <tbody>
                  {log.map((d) => (
                    <tr key={d.deliveryId}>
                      <th scope="row">
                        {t(`events.${d.eventType.replace(/[.-]/g, '_')}`)}
                        <span className="table__desc">
                          <code>{d.eventId}</code>
                        </span>
                      </th>
                      <td>
                        <span className={`badge ${d.status === 'delivered' ? 'badge--approved' : d.status === 'failed' ? 'badge--rejected' : 'badge--more-info'}`}>{t(`log.statuses.${d.status}`)}</span>
                      </td>
                      <td>{d.attempts.map((a) => (a.statusCode ? String(a.statusCode) : a.error)).join(' → ') || '—'}</td>
                      <td className="nowrap">{when(d.createdAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      ) : null}

      <form className="form form--wide" onSubmit={(e) => void register(e)} noValidate data-testid="webhook-form">
        <h3>{t('register.title')}</h3>
        <div className="field">
          <label htmlFor="webhook-url" className="field__label">
            {t('register.url')}
          </label>
          <input id="webhook-url" className="input" value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://partner.example.org/mdrp/events" aria-describedby="webhook-url-hint" aria-invalid={formError ? true : undefined} />
          <p id="webhook-url-hint" className="field__hint">
            {t('register.urlHint')}
          </p>
        </div>
        <fieldset className="fieldset fieldset--inner">
          <legend className="field__label">{t('register.events')}</legend>
          <ul className="choice-list choice-list--inline">
            {WEBHOOK_EVENT_TYPES.map((x) => (
              <li key={x}>
                <input type="checkbox" id={`webhook-type-${x}`} checked={types.includes(x)} onChange={(e) => setTypes((cur) => (e.target.checked ? [...cur, x] : cur.filter((y) => y !== x)))} />
                <label htmlFor={`webhook-type-${x}`}>{t(`events.${x.replace(/[.-]/g, '_')}`)}</label>
              </li>
            ))}
          </ul>
        </fieldset>
        {formError ? (
          <p className="field__error" role="alert">
            {formError}
          </p>
        ) : null}
        <div className="form__actions">
          <button type="submit" className="button" disabled={busy} data-testid="webhook-submit">
            {t('register.submit')}
          </button>
        </div>
      </form>
    </section>
  );
}
