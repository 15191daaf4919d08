'use client';

import Link from 'next/link';
import { useTranslations } from 'next-intl';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { AccessRequest, DecisionOutcome, ReviewStep } from '../../lib/api-client';
import { LIMITS, OUTCOMES_BY_STEP, fieldErrorsFromApi, isFinal, roleForStep, type FieldErrors } from '../../lib/access';
import { ErrorPanel } from '../error-panel';
import { toShownError, usePortal, type ShownError } from '../portal-provider';
import { ApprovalChain, FieldError, HistoryTimeline, RequestFacts, describedBy } from './access-parts';
import { RequestDocuments } from './request-documents';
import { StatusLine, useDatasetTitles } from './request-detail-view';
import { useAccessRequest } from './use-access-request';

/**
 * `/review-queue/view/?id=…`: the full request, its history and the decision form of the open
 * step for a reviewer holding that step's role (R-GOV-3, R-GOV-4).
 */
export function ReviewDetailView({ requestId }: { requestId: string }) {
  const t = useTranslations('access');
  const { me } = usePortal();
  const { request, error, refreshing, reload, refreshUntil } = useAccessRequest(requestId);
  const titles = useDatasetTitles();
  const [recorded, setRecorded] = useState<{ outcome: DecisionOutcome; step: ReviewStep; openedAt: string } | undefined>();
  const resultRef = useRef<HTMLDivElement>(null);

  // Focus moves to the confirmation after a decision so keyboard and screen-reader users know it counted.
  useEffect(() => {
    if (recorded) resultRef.current?.focus();
  }, [recorded]);

  if (!requestId) return <ErrorPanel error={{ code: 'MISSING_ID', message: t('detail.missingId') }} />;
  if (error) return <ErrorPanel error={error} onRetry={reload} />;
  if (!request) {
    return (
      <p role="status" className="muted">
        {t('detail.loading')}
      </p>
    );
  }

  const pending = request.pending;
  const ownRequest = me?.userId === request.applicantId;
  const mayDecide = pending?.kind === 'review' && !ownRequest && (me?.roles ?? []).includes(roleForStep(pending.step));

  return (
    <div className="stack">
      <p>
        <Link href="/review-queue/">← {t('review.backToQueue')}</Link>
      </p>
      <header className="card detail-head">
        <p className="muted small mono" data-testid="request-number">
          {request.requestId}
        </p>
        <h1 data-testid="request-title">{request.title}</h1>
        <StatusLine request={request} refreshing={refreshing} onRefresh={reload} />
      </header>

      <ApprovalChain request={request} />

      <section className="card" aria-labelledby="facts-title">
        <h2 id="facts-title">{t('detail.factsTitle')}</h2>
        <RequestFacts request={request} datasetTitles={titles} />
      </section>

      <RequestDocuments requestId={request.requestId} canUpload={false} />

      {recorded ? (
        <div className="notice notice--success" role="status" tabIndex={-1} ref={resultRef} data-testid="decision-recorded">
          <p className="notice__title">{t('review.recorded', { outcome: t(`outcomes.${recorded.outcome}`), step: t(`steps.${recorded.step}`) })}</p>
          <p>
            <Link href="/review-queue/">{t('review.backToQueue')}</Link>
          </p>
        </div>
      ) : null}

      {mayDecide && pending && recorded?.openedAt !== pending.openedAt ? (
        <DecisionForm
          key={`${pending.step}-${pending.openedAt}`}
          request={request}
          step={pending.step}
          onDecided={async (outcome) => {
            const openedAt = pending.openedAt;
            setRecorded({ outcome, step: pending.step, openedAt });
            await refreshUntil((r) => r.pending?.openedAt !== openedAt || isFinal(r.status));
          }}
        />
      ) : recorded ? null : (
        <p className="notice" data-testid="no-decision">
          {ownRequest ? t('review.ownRequest') : pending?.kind === 'review' ? t('review.notYourStep', { step: t(`steps.${pending.step}`) }) : t('review.nothingOpen')}
        </p>
      )}

      <HistoryTimeline history={request.history} applicant={{ id: request.applicantId, name: request.applicantName }} />
    </div>
  );
}

/** Outcome radios allowed at the step, a reason (required unless approving) and submit. */
function DecisionForm({ request, step, onDecided }: { request: AccessRequest; step: ReviewStep; onDecided(outcome: DecisionOutcome): Promise<void> }) {
  const t = useTranslations('access');
  const { api } = usePortal();
  const [outcome, setOutcome] = useState<DecisionOutcome | ''>('');
  const [comment, setComment] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<ShownError | undefined>();
  const [busy, setBusy] = useState(false);
  const outcomes = OUTCOMES_BY_STEP[step];
  const reasonRequired = outcome !== '' && outcome !== 'approved';

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (busy) return;
    const found: FieldErrors = {};
    if (!outcome) found.outcome = { key: 'chooseOutcome' };
    if (outcome && outcome !== 'approved' && comment.trim() === '') found.comment = { key: 'reasonRequired' };
    if (comment.trim().length > LIMITS.comment.max) found.comment = { key: 'tooLong', values: { max: LIMITS.comment.max } };
    setErrors(found);
    setFormError(undefined);
    if (!outcome || Object.keys(found).length > 0) {
      document.getElementById(found.outcome ? `decision-${outcomes[0]}` : 'decision-comment')?.focus();
      return;
    }
    setBusy(true);
    try {
      await api.decideAccessRequest(request.requestId, { step, outcome, ...(comment.trim() ? { comment: comment.trim() } : {}) });
      await onDecided(outcome);
    } catch (err) {
      const mapped = fieldErrorsFromApi(err, ['outcome', 'comment']);
      if (mapped) setErrors(mapped);
      else setFormError(toShownError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card card--attention" aria-labelledby="decision-title">
      <h2 id="decision-title">{t('review.decisionTitle', { step: t(`steps.${step}`) })}</h2>
      {formError ? <ErrorPanel error={formError} /> : null}
      <form className="form" onSubmit={(e) => void onSubmit(e)} noValidate data-testid="decision-form">
        <fieldset className="fieldset" aria-describedby={describedBy(errors.outcome && 'decision-outcome-error')}>
          <legend className="fieldset__legend">{t('review.outcomeLegend')}</legend>
          <ul className="choice-list">
            {outcomes.map((o) => (
              <li key={o}>
                <input type="radio" id={`decision-${o}`} name="outcome" value={o} checked={outcome === o} onChange={() => setOutcome(o)} />
                <label htmlFor={`decision-${o}`}>{t(`outcomes.${o}`)}</label>
              </li>
            ))}
          </ul>
          <FieldError id="decision-outcome-error" problem={errors.outcome} />
        </fieldset>
        <div className="field">
          <label htmlFor="decision-comment" className="field__label">
            {reasonRequired ? t('review.reasonRequired') : t('review.commentOptional')}
          </label>
          <textarea
            id="decision-comment"
            className="input textarea"
            rows={4}
            value={comment}
            maxLength={LIMITS.comment.max}
            onChange={(e) => setComment(e.target.value)}
            required={reasonRequired}
            aria-invalid={errors.comment ? true : undefined}
            aria-describedby={describedBy('decision-comment-hint', errors.comment && 'decision-comment-error')}
          />
          <p id="decision-comment-hint" className="field__hint">
            {t('review.reasonHint')}
          </p>
          <FieldError id="decision-comment-error" problem={errors.comment} />
        </div>
        <div className="form__actions">
          <button type="submit" className="button" disabled={busy} data-testid="submit-decision">
            {busy ? t('review.submitting') : t('review.submit')}
          </button>
        </div>
      </form>
    </section>
  );
}
