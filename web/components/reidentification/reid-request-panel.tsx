'use client';

import Link from 'next/link';
import { useTranslations } from 'next-intl';
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { MIN_JUSTIFICATION, REID_REASONS, requestReidentification, type ReidReason, type ReidRequest } from '../../lib/reidentification-api';
import { ErrorPanel } from '../error-panel';
import { toShownError, usePortal, type ShownError } from '../portal-provider';

/**
 * On the researcher's patient view: ask for this pseudonym to be re-identified (R-DEID-3), e.g. to
 * report an incidental finding to the treating hospital. Collapsed behind a button; the form says
 * what the procedure is (two approvals, shown once, audited).
 */
export function ReidRequestPanel({ grantId, token }: { grantId: string; token: string }) {
  const t = useTranslations('reid');
  const { api, me } = usePortal();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState<ReidReason>('incidental-finding');
  const [justification, setJustification] = useState('');
  const [tooShort, setTooShort] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShownError | undefined>();
  const [created, setCreated] = useState<ReidRequest | undefined>();
  const id = useId();
  const reasonRef = useRef<HTMLSelectElement>(null);
  const doneRef = useRef<HTMLParagraphElement>(null);

  useEffect(() => {
    if (open) reasonRef.current?.focus();
  }, [open]);
  useEffect(() => {
    if (created) doneRef.current?.focus();
  }, [created]);

  if (!me?.roles.includes('researcher')) return null;

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (busy) return;
    const short = justification.trim().length < MIN_JUSTIFICATION;
    setTooShort(short);
    setError(undefined);
    if (short) return;
    setBusy(true);
    try {
      setCreated(await requestReidentification(api, { grantId, token, reason, justification: justification.trim() }));
    } catch (err) {
      setError(toShownError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby={`${id}-title`} data-testid="reid-panel">
      <h2 id={`${id}-title`} className="section-head">
        {t('panelTitle')}
      </h2>
      <p className="muted small">{t('panelIntro')}</p>
      {created ? (
        <p className="notice notice--success" role="status" tabIndex={-1} ref={doneRef} data-testid="reid-submitted">
          {t('submitted', { id: created.requestId })} <Link href="/reidentification/">{t('followUp')}</Link>
        </p>
      ) : !open ? (
        <button type="button" className="button button--secondary button--small" onClick={() => setOpen(true)} aria-expanded={false} data-testid="reid-open">
          {t('openForm')}
        </button>
      ) : (
        <form className="form form--compact" onSubmit={(e) => void onSubmit(e)} noValidate data-testid="reid-form">
          {error ? <ErrorPanel error={error} /> : null}
          <div className="field">
            <label htmlFor={`${id}-reason`} className="field__label">
              {t('reason')}
            </label>
            <select id={`${id}-reason`} ref={reasonRef} className="select select--field" value={reason} onChange={(e) => setReason(e.target.value as ReidReason)} data-testid="reid-reason">
              {REID_REASONS.map((r) => (
                <option key={r} value={r}>
                  {t(`reasons.${r}`)}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={`${id}-why`} className="field__label">
              {t('justification')}
            </label>
            <p className="field__hint" id={`${id}-why-hint`}>
              {t('justificationHint', { min: MIN_JUSTIFICATION })}
            </p>
            <textarea
              id={`${id}-why`}
              className="input textarea"
              rows={4}
              value={justification}
              onChange={(e) => {
                setJustification(e.target.value);
                // The error goes as soon as the text is long enough (it is re-checked on submit).
                if (tooShort && e.target.value.trim().length >= MIN_JUSTIFICATION) setTooShort(false);
              }}
              aria-invalid={tooShort ? true : undefined}
              aria-describedby={tooShort ? `${id}-why-hint ${id}-why-error` : `${id}-why-hint`}
              data-testid="reid-justification"
            />
            {tooShort ? (
              <p id={`${id}-why-error`} className="field__error">
                {t('tooShort', { min: MIN_JUSTIFICATION })}
              </p>
            ) : null}
          </div>
          <p className="small">{t('procedure')}</p>
          <div className="form__actions">
            <button type="submit" className="button button--small" disabled={busy} data-testid="reid-submit">
              {busy ? t('sending') : t('send')}
            </button>
            <button type="button" className="button button--secondary button--small" onClick={() => setOpen(false)}>
              {t('cancel')}
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
