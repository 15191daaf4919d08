'use client';

import { useTranslations } from 'next-intl';
import { useState, type FormEvent } from 'react';
import { ApiError } from '../../lib/api-client';
import { isCidr, onboardPartner, parseCidrs, PARTNER_SCOPES, type OnboardedPartner, type PartnerPlan, type PartnerScope } from '../../lib/partners-api';
import { ErrorPanel } from '../error-panel';
import { toShownError, usePortal, type ShownError } from '../portal-provider';

type Field = 'name' | 'institution' | 'contactEmail' | 'cidrs' | 'scopes';
const PLANS: PartnerPlan[] = ['default', 'pilot'];

/** Onboarding a partner system (R-SEC-7): the API answers with secrets that are shown once. */
export function OnboardPartnerForm({ onOnboarded, onForbidden }: { onOnboarded(out: OnboardedPartner): void; onForbidden(e: ShownError): void }) {
  const t = useTranslations('partners.onboard');
  const { api } = usePortal();
  const [name, setName] = useState('');
  const [institution, setInstitution] = useState('');
  const [contactEmail, setContactEmail] = useState('');
  const [cidrs, setCidrs] = useState('');
  const [scopes, setScopes] = useState<PartnerScope[]>(['catalog.read']);
  const [plan, setPlan] = useState<PartnerPlan>('default');
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [error, setError] = useState<ShownError | undefined>();
  const [busy, setBusy] = useState(false);

  const id = (f: string) => `onboard-${f}`;
  const err = (f: Field) => (errors[f] ? `${id(f)}-error` : undefined);

  function validate(): Partial<Record<Field, string>> {
    const e: Partial<Record<Field, string>> = {};
    if (name.trim().length < 2) e.name = t('errors.name');
    if (institution.trim().length < 2) e.institution = t('errors.institution');
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(contactEmail.trim())) e.contactEmail = t('errors.contactEmail');
    const list = parseCidrs(cidrs);
    if (list.length === 0 || list.some((c) => !isCidr(c))) e.cidrs = t('errors.cidrs');
    if (scopes.length === 0) e.scopes = t('errors.scopes');
    return e;
  }

  async function submit(ev: FormEvent) {
    ev.preventDefault();
    const e = validate();
    setErrors(e);
    setError(undefined);
    if (Object.keys(e).length) {
      document.getElementById(id(Object.keys(e)[0]!))?.focus();
      return;
    }
    setBusy(true);
    try {
      const out = await onboardPartner(api, { name: name.trim(), institution: institution.trim(), contactEmail: contactEmail.trim(), allowedCidrs: parseCidrs(cidrs), scopes, plan });
      onOnboarded(out);
      setName('');
      setContactEmail('');
      setCidrs('');
    } catch (x) {
      if (x instanceof ApiError && x.status === 403) onForbidden(toShownError(x));
      else setError(toShownError(x));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="onboard-title" className="card stack">
      <h2 id="onboard-title">{t('title')}</h2>
      <p className="muted">{t('intro')}</p>
      <form className="form form--wide" onSubmit={(e) => void submit(e)} noValidate data-testid="onboard-form">
        <div className="form__row">
          <div className="field">
            <label htmlFor={id('name')} className="field__label">
              {t('name')}
            </label>
            <input id={id('name')} className="input" value={name} onChange={(e) => setName(e.target.value)} aria-invalid={errors.name ? true : undefined} aria-describedby={err('name')} maxLength={200} />
            {errors.name ? <p id={err('name')} className="field__error">{errors.name}</p> : null}
          </div>
          <div className="field">
            <label htmlFor={id('institution')} className="field__label">
              {t('institution')}
            </label>
            <input id={id('institution')} className="input" value={institution} onChange={(e) => setInstitution(e.target.value)} aria-invalid={errors.institution ? true : undefined} aria-describedby={err('institution')} maxLength={100} />
            {errors.institution ? <p id={err('institution')} className="field__error">{errors.institution}</p> : null}
          </div>
        </div>
        <div className="form__row">
          <div className="field">
            <label htmlFor={id('contactEmail')} className="field__label">
              {t('contactEmail')}
            </label>
            <input id={id('contactEmail')} type="email" className="input" value={contactEmail} onChange={(e) => setContactEmail(e.target.value)} aria-invalid={errors.contactEmail ? true : undefined} aria-describedby={err('contactEmail')} />
            {errors.contactEmail ? <p id={err('contactEmail')} className="field__error">{errors.contactEmail}</p> : null}
          </div>
          <div className="field">
            <label htmlFor={id('plan')} className="field__label">
              {t('plan')}
            </label>
            <select id={id('plan')} className="input" value={plan} onChange={(e) => setPlan(e.target.value as PartnerPlan)}>
              {PLANS.map((p) => (
                <option key={p} value={p}>
                  {t(`plans.${p}`)}
                </option>
              ))}
            </select>
          </div>
        </div>
        <div className="field">
          <label htmlFor={id('cidrs')} className="field__label">
            {t('cidrs')}
          </label>
          <textarea
            id={id('cidrs')}
            className="input"
            rows={2}
            value={cidrs}
            onChange={(e) => setCidrs(e.target.value)}
            aria-invalid={errors.cidrs ? true : undefined}
            aria-describedby={[`${id('cidrs')}-hint`, err('cidrs')].filter(Boolean).join(' ')}
            placeholder="203.0.113.0/24"
          />
          <p id={`${id('cidrs')}-hint`} className="field__hint">
            {t('cidrsHint')}
          </p>
          {errors.cidrs ? <p id={err('cidrs')} className="field__error">{errors.cidrs}</p> : null}
        </div>
        <fieldset className="fieldset fieldset--inner" aria-describedby={err('scopes')} id={id('scopes')} tabIndex={-1}>
          <legend className="field__label">{t('scopes')}</legend>
          <ul className="choice-list choice-list--inline">
            {PARTNER_SCOPES.map((s) => (
              <li key={s}>
                <input
                  type="checkbox"
                  id={id(`scope-${s}`)}
                  checked={scopes.includes(s)}
                  onChange={(e) => setScopes((cur) => (e.target.checked ? [...cur, s] : cur.filter((x) => x !== s)))}
                />
                <label htmlFor={id(`scope-${s}`)}>
                  <code>{s}</code> <span className="muted small">{t(`scopeHelp.${s.replace('.', '_')}`)}</span>
                </label>
              </li>
            ))}
          </ul>
          {errors.scopes ? <p id={err('scopes')} className="field__error">{errors.scopes}</p> : null}
        </fieldset>
        {error ? <ErrorPanel error={error} /> : null}
        <div className="form__actions">
          <button type="submit" className="button" disabled={busy} data-testid="onboard-submit">
            {busy ? t('submitting') : t('submit')}
          </button>
        </div>
      </form>
    </section>
  );
}
