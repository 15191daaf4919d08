'use client';

import Link from 'next/link';
import { useTranslations } from 'next-intl';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { AccessRequest, ApplicantResponse, DatasetSummary } from '../../lib/api-client';
import { LIMITS, checkDuration, checkLength, fieldErrorsFromApi, isFinal, type FieldErrors } from '../../lib/access';
import { ErrorPanel } from '../error-panel';
import { toShownError, usePortal, type ShownError } from '../portal-provider';
import { ApprovalChain, CurrentStep, FieldError, HistoryTimeline, RequestFacts, StatusBadge, describedBy, useDateTime } from './access-parts';
import { useAccessRequest } from './use-access-request';
import { RequestDocuments } from './request-documents';
import type { RequestWithRenewal } from '../../lib/governance-api';

/** Titles of the catalogue's datasets by id (for showing a request's scope). */
export function useDatasetTitles(): Record<string, string> | undefined {
  const { api } = usePortal();
  const [titles, setTitles] = useState<Record<string, string> | undefined>();
  useEffect(() => {
    api
      .datasets()
      .then((items: DatasetSummary[]) => setTitles(Object.fromEntries(items.map((d) => [d.datasetId, d.title]))))
      // Titles are a convenience; the ids are shown regardless.
      .catch(() => setTitles({}));
  }, [api]);
  return titles;
}

/**
 * `/access-requests/view/?id=…`: one request with its status, approval chain and full history;
 * when the workflow waits for the applicant, the answer/amend form (R-GOV-3, R-GOV-4).
 */
export function RequestDetailView({ requestId, justSubmitted }: { requestId: string; justSubmitted: boolean }) {
  const t = useTranslations('access');
  const tRenewal = useTranslations('renewal');
  const { me } = usePortal();
  const { request, error, refreshing, reload, refreshUntil } = useAccessRequest(requestId);
  const titles = useDatasetTitles();
  const headingRef = useRef<HTMLHeadingElement>(null);
  const focused = useRef(false);

  // After submitting, focus moves to the page heading so screen readers announce where they are.
  useEffect(() => {
    if (request && justSubmitted && !focused.current) {
      focused.current = true;
      headingRef.current?.focus();
    }
  }, [request, justSubmitted]);

  if (!requestId) return <ErrorPanel error={{ code: 'MISSING_ID', message: t('detail.missingId') }} />;
  if (error) return <ErrorPanel error={error} onRetry={reload} />;
  if (!request) {
    return (
      <p role="status" className="muted">
        {t('detail.loading')}
      </p>
    );
  }

  const mine = me?.userId === request.applicantId;
  const answerable = mine && request.pending?.kind === 'applicant';

  return (
    <div className="stack">
      <p>
        <Link href="/access-requests/">← {t('detail.backToList')}</Link>
      </p>
      <header className="card detail-head">
        <p className="muted small mono" data-testid="request-number">
          {request.requestId}
        </p>
        <h1 ref={headingRef} tabIndex={-1} data-testid="request-title">
          {request.title}
        </h1>
        {justSubmitted ? (
          <p className="notice notice--success" data-testid="submitted-notice">
            {t('detail.submittedNotice', { number: request.requestId })}
          </p>
        ) : null}
        <StatusLine request={request} refreshing={refreshing} onRefresh={reload} />
        {request.status === 'rejected' ? <RejectionReason request={request} /> : null}
        {(request as RequestWithRenewal).renewsGrantId ? (
          <p className="notice" data-testid="renewal-of">
            <Link href="/grants/">{tRenewal('renewalOf', { grantId: (request as RequestWithRenewal).renewsGrantId! })}</Link>
          </p>
        ) : null}
        {request.grantId ? (
          <p>
            <Link href="/grants/" data-testid="grant-link">
              {t('detail.grantIssued', { grantId: request.grantId })}
            </Link>
          </p>
        ) : null}
      </header>

      <ApprovalChain request={request} />

      {answerable ? (
        <ApplicantResponseForm
          request={request}
          onAnswered={async () => {
            const openedAt = request.pending?.openedAt;
            await refreshUntil((r) => r.pending?.openedAt !== openedAt || isFinal(r.status));
          }}
        />
      ) : null}

      <section className="card" aria-labelledby="facts-title">
        <h2 id="facts-title">{t('detail.factsTitle')}</h2>
        <RequestFacts request={request} datasetTitles={titles} />
      </section>

      <RequestDocuments requestId={request.requestId} canUpload={mine && !isFinal(request.status)} onUploaded={reload} />

      <HistoryTimeline history={request.history} applicant={{ id: request.applicantId, name: request.applicantName }} />
    </div>
  );
}

/** Status, current step and a refresh button; a live region so status changes are announced. */
export function StatusLine({ request, refreshing, onRefresh }: { request: AccessRequest; refreshing: boolean; onRefresh(): void }) {
  const t = useTranslations('access');
  const when = useDateTime();
  return (
    <div className="status-line">
      <div aria-live="polite" aria-atomic="true" data-testid="request-status">
        <span className="visually-hidden">{t('detail.statusLabel')}: </span>
        <StatusBadge status={request.status} /> <CurrentStep request={request} />
        {request.pending ? <span className="muted small"> · {t('detail.since', { time: when(request.pending.openedAt) })}</span> : null}
      </div>
      <button type="button" className="button button--secondary button--small" onClick={onRefresh} disabled={refreshing} data-testid="refresh">
        {refreshing ? t('detail.refreshing') : t('detail.refresh')}
      </button>
    </div>
  );
}

/** R-GOV-3: a rejection ends the flow and the reasons are told to the applicant. */
function RejectionReason({ request }: { request: AccessRequest }) {
  const t = useTranslations('access');
  const entry = [...request.history].reverse().find((h) => h.action === 'rejected');
  if (!entry?.comment) return null;
  return (
    <div className="notice notice--error" data-testid="rejection-reason">
      <p className="notice__title">{t('detail.rejectedBecause', { step: entry.step ? t(`steps.${entry.step}`) : '' })}</p>
      <p className="prewrap">{entry.comment}</p>
    </div>
  );
}

const AMEND_FIELDS = ['comment', 'amendments.title', 'amendments.purpose', 'amendments.academicStatement', 'amendments.requestedDurationDays'] as const;

/** The applicant's answer to "changes requested" (ethics) or "more information" (approvers), with optional amendments. */
function ApplicantResponseForm({ request, onAnswered }: { request: AccessRequest; onAnswered(): Promise<void> }) {
  const t = useTranslations('access');
  const { api } = usePortal();
  const [comment, setComment] = useState('');
  const [amend, setAmend] = useState(false);
  const [title, setTitle] = useState(request.title);
  const [purpose, setPurpose] = useState(request.purpose);
  const [statement, setStatement] = useState(request.academicStatement);
  const [duration, setDuration] = useState(String(request.requestedDurationDays));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<ShownError | undefined>();
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const doneRef = useRef<HTMLParagraphElement>(null);
  const lastAsk = [...request.history].reverse().find((h) => h.action === 'changes-requested' || h.action === 'more-info');

  useEffect(() => {
    if (done) doneRef.current?.focus();
  }, [done]);

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (busy) return;
    const found: FieldErrors = {};
    const c = checkLength(comment, LIMITS.comment);
    if (c) found.comment = c;
    const body: ApplicantResponse = { comment: comment.trim() };
    if (amend) {
      const a: NonNullable<ApplicantResponse['amendments']> = {};
      if (title.trim() !== request.title) {
        const p = checkLength(title, LIMITS.title);
        if (p) found['amendments.title'] = p;
        a.title = title.trim();
      }
      if (purpose.trim() !== request.purpose) {
        const p = checkLength(purpose, LIMITS.purpose);
        if (p) found['amendments.purpose'] = p;
        a.purpose = purpose.trim();
      }
      if (statement.trim() !== request.academicStatement) {
        const p = checkLength(statement, LIMITS.academicStatement);
        if (p) found['amendments.academicStatement'] = p;
        a.academicStatement = statement.trim();
      }
      if (duration.trim() !== String(request.requestedDurationDays)) {
        const p = checkDuration(duration);
        if (p) found['amendments.requestedDurationDays'] = p;
        a.requestedDurationDays = Number(duration);
      }
      if (Object.keys(a).length > 0) body.amendments = a;
    }
    setErrors(found);
    setFormError(undefined);
    if (Object.keys(found).length > 0) {
      const first = AMEND_FIELDS.find((f) => found[f]);
      if (first) document.getElementById(`resp-${first.replace(/\./g, '-')}`)?.focus();
      return;
    }
    setBusy(true);
    try {
      await api.respondToAccessRequest(request.requestId, body);
      setDone(true);
      await onAnswered();
    } catch (err) {
      const mapped = fieldErrorsFromApi(err, AMEND_FIELDS);
      if (mapped) setErrors(mapped);
      else setFormError(toShownError(err));
    } finally {
      setBusy(false);
    }
  }

  if (done) {
    return (
      <p className="notice notice--success" tabIndex={-1} ref={doneRef} role="status" data-testid="answer-sent">
        {t('respond.sent')}
      </p>
    );
  }

  const err = (f: string) => (errors[f] ? `resp-${f.replace(/\./g, '-')}-error` : undefined);
  const textField = (field: (typeof AMEND_FIELDS)[number], label: string, value: string, set: (v: string) => void, rows?: number) => {
    const id = `resp-${field.replace(/\./g, '-')}`;
    return (
      <div className="field">
        <label htmlFor={id} className="field__label">
          {label}
        </label>
        {rows ? (
          <textarea id={id} className="input textarea" rows={rows} value={value} onChange={(e) => set(e.target.value)} aria-invalid={errors[field] ? true : undefined} aria-describedby={describedBy(err(field))} />
        ) : (
          <input id={id} className="input" value={value} onChange={(e) => set(e.target.value)} aria-invalid={errors[field] ? true : undefined} aria-describedby={describedBy(err(field))} />
        )}
        <FieldError id={`${id}-error`} problem={errors[field]} />
      </div>
    );
  };

  return (
    <section className="card card--attention" aria-labelledby="respond-title" data-testid="respond-form">
      <h2 id="respond-title">{request.status === 'changes-requested' ? t('respond.titleChanges') : t('respond.titleMoreInfo')}</h2>
      {lastAsk?.comment ? (
        <blockquote className="timeline__comment">
          <span className="visually-hidden">{t('respond.reviewerSaid')}: </span>
          {lastAsk.comment}
        </blockquote>
      ) : null}
      {formError ? <ErrorPanel error={formError} /> : null}
      <form className="form" onSubmit={(e) => void onSubmit(e)} noValidate>
        {textField('comment', t('respond.comment'), comment, setComment, 4)}
        <div className="checkbox">
          <input type="checkbox" id="resp-amend" checked={amend} onChange={(e) => setAmend(e.target.checked)} />
          <label htmlFor="resp-amend">{t('respond.amend')}</label>
        </div>
        {amend ? (
          <fieldset className="fieldset">
            <legend className="fieldset__legend">{t('respond.amendLegend')}</legend>
            {textField('amendments.title', t('form.title'), title, setTitle)}
            {textField('amendments.purpose', t('form.purpose'), purpose, setPurpose, 3)}
            {textField('amendments.academicStatement', t('form.academicStatement'), statement, setStatement, 6)}
            {textField('amendments.requestedDurationDays', t('form.duration'), duration, setDuration)}
            <p className="field__hint">{t('respond.scopeNote')}</p>
          </fieldset>
        ) : null}
        <div className="form__actions">
          <button type="submit" className="button" disabled={busy} data-testid="send-answer">
            {busy ? t('respond.sending') : t('respond.send')}
          </button>
        </div>
      </form>
    </section>
  );
}
