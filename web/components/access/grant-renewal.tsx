'use client';

import Link from 'next/link';
import { useTranslations } from 'next-intl';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { Grant } from '../../lib/api-client';
import { AGREEMENT_VERSION, fieldErrorsFromApi, type FieldErrors } from '../../lib/access';
import { requestGrantRenewal, type GrantWithRenewals, type RequestWithRenewal } from '../../lib/governance-api';
import { ErrorPanel } from '../error-panel';
import { toShownError, usePortal, type ShownError } from '../portal-provider';
import { FieldError, describedBy, useDateTime } from './access-parts';

const DAY = 86_400_000;

/** Approved renewals of a grant (R-GOV-5 history), shown under its validity. */
export function RenewalHistory({ grant }: { grant: Grant }) {
  const t = useTranslations('renewal');
  const when = useDateTime();
  const renewals = (grant as GrantWithRenewals).renewals ?? [];
  if (renewals.length === 0) return null;
  return (
    <ul className="plain-list small" style={{ whiteSpace: 'normal' }} data-testid="grant-renewals">
      {renewals.map((r) => (
        <li key={r.requestId}>
          {t('renewed', { from: when(r.previousExpiresAt), to: when(r.expiresAt) })} (<Link href={`/access-requests/view/?id=${encodeURIComponent(r.requestId)}`}>{r.requestId}</Link>)
        </li>
      ))}
    </ul>
  );
}

/**
 * R-GOV-5 continuing review: the holder asks for a new end date with a justification and
 * re-accepts the data sharing agreement; the renewal goes through ethics and approvals again.
 */
export function RenewalForm({ grant, onCancel }: { grant: Grant; onCancel(): void }) {
  const t = useTranslations('renewal');
  const { api } = usePortal();
  const base = Math.max(Date.parse(grant.expiresAt), Date.now());
  const [until, setUntil] = useState(() => new Date(base + 90 * DAY).toISOString().slice(0, 10));
  const [justification, setJustification] = useState('');
  const [accepted, setAccepted] = useState(false);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<ShownError | undefined>();
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<RequestWithRenewal | undefined>();
  const firstRef = useRef<HTMLInputElement>(null);
  const doneRef = useRef<HTMLParagraphElement>(null);
  const id = `renew-${grant.grantId}`;

  useEffect(() => firstRef.current?.focus(), []);
  useEffect(() => {
    if (created) doneRef.current?.focus();
  }, [created]);

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (busy) return;
    const found: FieldErrors = {};
    const end = Date.parse(`${until}T23:59:59Z`);
    if (!Number.isFinite(end) || end <= Date.parse(grant.expiresAt)) found.expiresAt = { key: 'renewEndAfter' };
    if (justification.trim().length < 50) found.justification = { key: 'tooShort', values: { min: 50, count: justification.trim().length } };
    if (!accepted) found.agreementAccepted = { key: 'acceptAgreement' };
    setErrors(found);
    setFormError(undefined);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      setCreated(await requestGrantRenewal(api, grant.grantId, { expiresAt: new Date(end).toISOString(), justification: justification.trim(), agreementVersion: AGREEMENT_VERSION, agreementAccepted: true }));
    } catch (err) {
      const mapped = fieldErrorsFromApi(err, ['expiresAt', 'justification', 'agreementAccepted']);
      if (mapped) setErrors(mapped);
      else setFormError(toShownError(err));
    } finally {
      setBusy(false);
    }
  }

  if (created) {
    return (
      <p className="notice notice--success" role="status" tabIndex={-1} ref={doneRef} data-testid="renewal-submitted">
        {t('submitted')} <Link href={`/access-requests/view/?id=${encodeURIComponent(created.requestId)}`}>{created.requestId}</Link>
      </p>
    );
  }

  return (
    <form className="form form--compact" onSubmit={(e) => void onSubmit(e)} noValidate data-testid="renewal-form">
      {formError ? <ErrorPanel error={formError} /> : null}
      <div className="field">
        <label htmlFor={`${id}-until`} className="field__label">
          {t('until')}
        </label>
        <input id={`${id}-until`} ref={firstRef} type="date" className="input" value={until} onChange={(e) => setUntil(e.target.value)} aria-invalid={errors.expiresAt ? true : undefined} aria-describedby={describedBy(`${id}-until-hint`, errors.expiresAt && `${id}-until-error`)} />
        <p className="field__hint" id={`${id}-until-hint`}>
          {t('untilHint')}
        </p>
        <FieldError id={`${id}-until-error`} problem={errors.expiresAt} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-why`} className="field__label">
          {t('justification')}
        </label>
        <textarea id={`${id}-why`} className="input textarea" rows={4} value={justification} onChange={(e) => setJustification(e.target.value)} aria-invalid={errors.justification ? true : undefined} aria-describedby={describedBy(errors.justification && `${id}-why-error`)} data-testid="renewal-justification" />
        <FieldError id={`${id}-why-error`} problem={errors.justification} />
      </div>
      <div className="checkbox">
        <input type="checkbox" id={`${id}-dsa`} checked={accepted} onChange={(e) => setAccepted(e.target.checked)} aria-invalid={errors.agreementAccepted ? true : undefined} aria-describedby={describedBy(errors.agreementAccepted && `${id}-dsa-error`)} />
        <label htmlFor={`${id}-dsa`}>{t('accept', { version: AGREEMENT_VERSION })}</label>
      </div>
      <FieldError id={`${id}-dsa-error`} problem={errors.agreementAccepted} />
      <div className="form__actions">
        <button type="submit" className="button button--small" disabled={busy} data-testid="submit-renewal">
          {busy ? t('sending') : t('send')}
        </button>
        <button type="button" className="button button--secondary button--small" onClick={onCancel}>
          {t('cancel')}
        </button>
      </div>
    </form>
  );
}
