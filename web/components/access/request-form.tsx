'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useTranslations } from 'next-intl';
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { uploadRequestDocument, type DocumentKind } from '../../lib/governance-api';
import { DocumentPicker } from './request-documents';
import type { DatasetSummary } from '../../lib/api-client';
import {
  AGREEMENT_VERSION,
  LIMITS,
  MAX_DURATION_DAYS,
  PURPOSE_CODES,
  availableModalities,
  draftToBody,
  emptyDraft,
  fieldErrorsFromApi,
  purposeKey,
  validateDraft,
  type FieldErrors,
  type RequestDraft,
} from '../../lib/access';
import { ErrorPanel } from '../error-panel';
import { toShownError, usePortal, type ShownError } from '../portal-provider';
import { FieldError, describedBy } from './access-parts';

/** Form field paths in display order (also the order of the error summary). */
const FIELD_ORDER = [
  'title',
  'purposeCode',
  'purpose',
  'academicStatement',
  'scope.datasetIds',
  'scope.modalities',
  'scope.fields',
  'requestedDurationDays',
  'agreementAccepted',
] as const;

/** Which error a draft property's edits clear. */
const FIELD_OF: Record<keyof RequestDraft, string> = {
  title: 'title',
  purposeCode: 'purposeCode',
  purpose: 'purpose',
  academicStatement: 'academicStatement',
  datasetIds: 'scope.datasetIds',
  modalities: 'scope.modalities',
  fields: 'scope.fields',
  durationDays: 'requestedDurationDays',
  reviewType: 'reviewType',
  agreementAccepted: 'agreementAccepted',
};

/** DOM id of the control (or first control) of a field, for error-summary links and focus. */
function controlId(field: string): string {
  return `ar-${field.replace(/\./g, '-')}`;
}

/**
 * New access request (R-GOV-2): purpose (DUO), academic statement, data scope, duration, review
 * type and the data sharing agreement (R-GOV-10). Validates like the server before sending and
 * maps the server's field errors back onto the fields.
 */
export function RequestForm({ preselect }: { preselect: string[] }) {
  const t = useTranslations('access');
  const tLevels = useTranslations('levels');
  const router = useRouter();
  const { api } = usePortal();
  const [catalogue, setCatalogue] = useState<DatasetSummary[] | undefined>();
  const [loadError, setLoadError] = useState<ShownError | undefined>();
  const [draft, setDraft] = useState<RequestDraft>(() => emptyDraft(preselect));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<ShownError | undefined>();
  const [busy, setBusy] = useState(false);
  const [documents, setDocuments] = useState<Array<{ kind: DocumentKind; file: File }>>([]);
  const summaryRef = useRef<HTMLDivElement>(null);
  const [focusSummary, setFocusSummary] = useState(0);

  const load = useCallback(() => {
    setLoadError(undefined);
    api
      .datasets()
      .then((items) => {
        setCatalogue(items);
        // Keep only pre-selected datasets that exist (a stale link must not submit a bad id).
        setDraft((d) => ({ ...d, datasetIds: d.datasetIds.filter((id) => items.some((x) => x.datasetId === id)) }));
      })
      .catch((err: unknown) => setLoadError(toShownError(err)));
  }, [api]);
  useEffect(() => load(), [load]);

  useEffect(() => {
    if (focusSummary > 0) summaryRef.current?.focus();
  }, [focusSummary]);

  // Editing a field clears its error; the rest stay until the next submit re-checks everything.
  const clearError = (key: keyof RequestDraft) => {
    setErrors((e) => {
      const field = FIELD_OF[key];
      if (!e[field]) return e;
      const next = { ...e };
      delete next[field];
      return next;
    });
  };

  const update = <K extends keyof RequestDraft>(key: K, value: RequestDraft[K]) => {
    setDraft((d) => ({ ...d, [key]: value }));
    clearError(key);
  };

  const toggleDataset = (id: string, on: boolean) => {
    clearError('datasetIds');
    setDraft((d) => {
      const datasetIds = on ? [...d.datasetIds, id] : d.datasetIds.filter((x) => x !== id);
      // Modalities the remaining datasets do not hold can no longer be requested.
      const allowed = availableModalities(catalogue ?? [], datasetIds);
      return { ...d, datasetIds, modalities: d.modalities.filter((m) => allowed.includes(m)) };
    });
  };

  const toggleModality = (m: string, on: boolean) => {
    clearError('modalities');
    setDraft((d) => ({ ...d, modalities: on ? [...d.modalities, m] : d.modalities.filter((x) => x !== m) }));
  };

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (busy) return;
    setFormError(undefined);
    const found = validateDraft(draft, catalogue);
    setErrors(found);
    if (Object.keys(found).length > 0) {
      setFocusSummary((n) => n + 1);
      return;
    }
    setBusy(true);
    try {
      const created = await api.submitAccessRequest(draftToBody(draft));
      // R-GOV-9: documents picked on the form are stored with the new request (each a version 1).
      let docsFailed = false;
      for (const d of documents) {
        try {
          await uploadRequestDocument(api, created.requestId, d.kind, d.file);
        } catch {
          docsFailed = true;
        }
      }
      router.push(`/access-requests/view/?id=${encodeURIComponent(created.requestId)}&submitted=1${docsFailed ? '&docs=failed' : ''}`);
    } catch (err) {
      const mapped = fieldErrorsFromApi(err, FIELD_ORDER);
      if (mapped) setErrors(mapped);
      else setFormError(toShownError(err));
      setFocusSummary((n) => n + 1);
      setBusy(false);
    }
  }

  if (loadError) return <ErrorPanel error={loadError} onRetry={load} />;
  if (!catalogue) {
    return (
      <p role="status" className="muted">
        {t('form.loadingCatalogue')}
      </p>
    );
  }

  const modalities = availableModalities(catalogue, draft.datasetIds);
  const errorFields = FIELD_ORDER.filter((f) => errors[f]);
  const errId = (f: string) => (errors[f] ? `${controlId(f)}-error` : undefined);
  const statementLength = draft.academicStatement.trim().length;

  return (
    <form className="form form--wide" onSubmit={(e) => void onSubmit(e)} noValidate aria-describedby="ar-form-intro">
      <p id="ar-form-intro" className="muted">
        {t('form.intro')}
      </p>

      {errorFields.length > 0 || formError ? (
        <div className="error-summary" role="alert" tabIndex={-1} ref={summaryRef} data-testid="form-errors">
          {formError ? (
            <ErrorPanel error={formError} />
          ) : (
            <>
              <h2 className="error-summary__title">{t('validation.summary', { count: errorFields.length })}</h2>
              <ul>
                {errorFields.map((f) => (
                  <li key={f}>
                    <a href={`#${controlId(f)}`}>{t(`form.fieldNames.${f.replace('scope.', '')}` as 'form.fieldNames.title')}</a>
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      ) : null}

      <div className="field">
        <label htmlFor={controlId('title')} className="field__label">
          {t('form.title')}
        </label>
        <input
          id={controlId('title')}
          className="input"
          value={draft.title}
          maxLength={LIMITS.title.max}
          onChange={(e) => update('title', e.target.value)}
          aria-invalid={errors.title ? true : undefined}
          aria-describedby={describedBy(errId('title'))}
          required
        />
        <FieldError id={`${controlId('title')}-error`} problem={errors.title} />
      </div>

      <div className="field">
        <label htmlFor={controlId('purposeCode')} className="field__label">
          {t('form.purposeCode')}
        </label>
        <select
          id={controlId('purposeCode')}
          className="select select--field"
          value={draft.purposeCode}
          onChange={(e) => update('purposeCode', e.target.value)}
          aria-invalid={errors.purposeCode ? true : undefined}
          aria-describedby={describedBy(`${controlId('purposeCode')}-hint`, errId('purposeCode'))}
          required
        >
          <option value="">{t('form.choosePurpose')}</option>
          {PURPOSE_CODES.map((code) => (
            <option key={code} value={code}>
              {t(`purposes.${purposeKey(code)}`)} ({code})
            </option>
          ))}
        </select>
        <p id={`${controlId('purposeCode')}-hint`} className="field__hint">
          {t('form.purposeCodeHint')}
        </p>
        <FieldError id={`${controlId('purposeCode')}-error`} problem={errors.purposeCode} />
      </div>

      <div className="field">
        <label htmlFor={controlId('purpose')} className="field__label">
          {t('form.purpose')}
        </label>
        <textarea
          id={controlId('purpose')}
          className="input textarea"
          rows={3}
          value={draft.purpose}
          maxLength={LIMITS.purpose.max}
          onChange={(e) => update('purpose', e.target.value)}
          aria-invalid={errors.purpose ? true : undefined}
          aria-describedby={describedBy(`${controlId('purpose')}-hint`, errId('purpose'))}
          required
        />
        <p id={`${controlId('purpose')}-hint`} className="field__hint">
          {t('form.purposeHint', { min: LIMITS.purpose.min })}
        </p>
        <FieldError id={`${controlId('purpose')}-error`} problem={errors.purpose} />
      </div>

      <div className="field">
        <label htmlFor={controlId('academicStatement')} className="field__label">
          {t('form.academicStatement')}
        </label>
        <textarea
          id={controlId('academicStatement')}
          className="input textarea"
          rows={6}
          value={draft.academicStatement}
          maxLength={LIMITS.academicStatement.max}
          onChange={(e) => update('academicStatement', e.target.value)}
          aria-invalid={errors.academicStatement ? true : undefined}
          aria-describedby={describedBy(`${controlId('academicStatement')}-hint`, errId('academicStatement'))}
          required
        />
        <p id={`${controlId('academicStatement')}-hint`} className="field__hint">
          {t('form.academicStatementHint', { min: LIMITS.academicStatement.min, count: statementLength })}
        </p>
        <FieldError id={`${controlId('academicStatement')}-error`} problem={errors.academicStatement} />
      </div>

      <fieldset className="fieldset">
        <legend className="fieldset__legend">{t('form.scopeLegend')}</legend>

        <fieldset
          className="fieldset fieldset--inner"
          aria-describedby={describedBy(errId('scope.datasetIds'))}
        >
          <legend className="field__label">{t('form.datasets')}</legend>
          {catalogue.length === 0 ? <p className="muted">{t('form.noDatasets')}</p> : null}
          <ul className="choice-list" data-testid="dataset-choices">
            {catalogue.map((d, i) => {
              const level = Math.min(5, Math.max(1, d.securityLevel));
              const id = i === 0 ? controlId('scope.datasetIds') : `ar-dataset-${d.datasetId}`;
              return (
                <li key={d.datasetId}>
                  <input
                    type="checkbox"
                    id={id}
                    value={d.datasetId}
                    checked={draft.datasetIds.includes(d.datasetId)}
                    onChange={(e) => toggleDataset(d.datasetId, e.target.checked)}
                  />
                  <label htmlFor={id} className="choice">
                    <span className="choice__title">{d.title}</span>
                    <span className="choice__meta">
                      <span className="mono">{d.datasetId}</span>
                      <span className={`level level--${level}`}>
                        {t('detail.levelValue', { level: d.securityLevel })} · {tLevels(String(level) as '1')}
                      </span>
                      <span>{t('form.patients', { count: d.patientCount })}</span>
                    </span>
                  </label>
                </li>
              );
            })}
          </ul>
          <FieldError id={`${controlId('scope.datasetIds')}-error`} problem={errors['scope.datasetIds']} />
        </fieldset>

        <fieldset
          className="fieldset fieldset--inner"
          aria-describedby={describedBy(`${controlId('scope.modalities')}-hint`, errId('scope.modalities'))}
        >
          <legend className="field__label">{t('form.modalities')}</legend>
          <p id={`${controlId('scope.modalities')}-hint`} className="field__hint">
            {draft.datasetIds.length === 0 ? t('form.modalitiesNeedDataset') : t('form.modalitiesHint')}
          </p>
          <ul className="choice-list choice-list--inline" data-testid="modality-choices">
            {modalities.map((m, i) => {
              const id = i === 0 ? controlId('scope.modalities') : `ar-modality-${m}`;
              return (
                <li key={m}>
                  <input
                    type="checkbox"
                    id={id}
                    value={m}
                    checked={draft.modalities.includes(m)}
                    onChange={(e) => toggleModality(m, e.target.checked)}
                  />
                  <label htmlFor={id}>{t(`modalities.${m}` as 'modalities.clinical')}</label>
                </li>
              );
            })}
          </ul>
          <FieldError id={`${controlId('scope.modalities')}-error`} problem={errors['scope.modalities']} />
        </fieldset>

        <div className="field">
          <label htmlFor={controlId('scope.fields')} className="field__label">
            {t('form.fields')}
          </label>
          <input
            id={controlId('scope.fields')}
            className="input mono"
            value={draft.fields}
            onChange={(e) => update('fields', e.target.value)}
            aria-invalid={errors['scope.fields'] ? true : undefined}
            aria-describedby={describedBy(`${controlId('scope.fields')}-hint`, errId('scope.fields'))}
            autoComplete="off"
            spellCheck={false}
          />
          <p id={`${controlId('scope.fields')}-hint`} className="field__hint">
            {t('form.fieldsHint')}
          </p>
          <FieldError id={`${controlId('scope.fields')}-error`} problem={errors['scope.fields']} />
        </div>
      </fieldset>

      <div className="form__row">
        <div className="field">
          <label htmlFor={controlId('requestedDurationDays')} className="field__label">
            {t('form.duration')}
          </label>
          <input
            id={controlId('requestedDurationDays')}
            className="input input--short"
            type="number"
            inputMode="numeric"
            min={1}
            max={MAX_DURATION_DAYS}
            step={1}
            value={draft.durationDays}
            onChange={(e) => update('durationDays', e.target.value)}
            aria-invalid={errors.requestedDurationDays ? true : undefined}
            aria-describedby={describedBy(`${controlId('requestedDurationDays')}-hint`, errId('requestedDurationDays'))}
            required
          />
          <p id={`${controlId('requestedDurationDays')}-hint`} className="field__hint">
            {t('form.durationHint', { max: MAX_DURATION_DAYS })}
          </p>
          <FieldError id={`${controlId('requestedDurationDays')}-error`} problem={errors.requestedDurationDays} />
        </div>

        <div className="field">
          <label htmlFor="ar-reviewType" className="field__label">
            {t('form.reviewType')}
          </label>
          <select
            id="ar-reviewType"
            className="select select--field"
            value={draft.reviewType}
            onChange={(e) => update('reviewType', e.target.value as RequestDraft['reviewType'])}
            aria-describedby="ar-reviewType-hint"
          >
            <option value="">{t('form.reviewTypeDefault')}</option>
            <option value="expedited">{t('reviewTypes.expedited')}</option>
            <option value="full-board">{t('reviewTypes.full-board')}</option>
          </select>
          <p id="ar-reviewType-hint" className="field__hint">
            {t('form.reviewTypeHint')}
          </p>
        </div>
      </div>

      <fieldset className="fieldset agreement" aria-describedby={describedBy(errId('agreementAccepted'))}>
        <legend className="fieldset__legend">{t('form.agreementLegend', { version: AGREEMENT_VERSION })}</legend>
        <div className="agreement__text" id="ar-agreement-text">
          <p>{t('form.agreementText1')}</p>
          <ul>
            <li>{t('form.agreementItem1')}</li>
            <li>{t('form.agreementItem2')}</li>
            <li>{t('form.agreementItem3')}</li>
            <li>{t('form.agreementItem4')}</li>
          </ul>
        </div>
        <div className="checkbox">
          <input
            type="checkbox"
            id={controlId('agreementAccepted')}
            checked={draft.agreementAccepted}
            onChange={(e) => update('agreementAccepted', e.target.checked)}
            aria-invalid={errors.agreementAccepted ? true : undefined}
            aria-describedby={describedBy('ar-agreement-text', errId('agreementAccepted'))}
          />
          <label htmlFor={controlId('agreementAccepted')}>{t('form.agreementAccept', { version: AGREEMENT_VERSION })}</label>
        </div>
        <FieldError id={`${controlId('agreementAccepted')}-error`} problem={errors.agreementAccepted} />
      </fieldset>

      <DocumentPicker value={documents} onChange={setDocuments} />

      <div className="form__actions">
        <button type="submit" className="button" disabled={busy} data-testid="submit-request">
          {busy ? t('form.submitting') : t('form.submit')}
        </button>
        <Link href="/access-requests/" className="button button--secondary">
          {t('form.cancel')}
        </Link>
        <span role="status" className="muted small">
          {busy ? t('form.submitting') : ''}
        </span>
      </div>
    </form>
  );
}
