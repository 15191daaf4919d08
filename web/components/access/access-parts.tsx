'use client';

import Link from 'next/link';
import { useFormatter, useTranslations } from 'next-intl';
import type { ReactNode } from 'react';
import type { AccessRequest, HistoryEntry, RequestStatus, ReviewStep } from '../../lib/api-client';
import { purposeKey, stepStates, type FieldProblem } from '../../lib/access';
import { ErrorPanel } from '../error-panel';
import { usePortal } from '../portal-provider';

/**
 * Formats an ISO instant in the institution's time zone (set on the intl provider) for the
 * current locale. Data arrives in UTC; the browser's own zone is deliberately ignored.
 */
export function useDateTime(): (iso: string | undefined, withZone?: boolean) => string {
  const format = useFormatter();
  return (iso, withZone = false) =>
    iso
      ? format.dateTime(new Date(iso), {
          year: 'numeric',
          month: '2-digit',
          day: '2-digit',
          hour: '2-digit',
          minute: '2-digit',
          ...(withZone ? { timeZoneName: 'short' as const } : {}),
        })
      : '—';
}

/** "Times are shown in Asia/Shanghai" note under tables and timelines. */
export function TimeZoneNote() {
  const t = useTranslations('access');
  const { config } = usePortal();
  return <p className="muted small">{t('timesIn', { zone: config.institutionTimeZone })}</p>;
}

/** Coloured status label of a request. */
export function StatusBadge({ status }: { status: RequestStatus | string }) {
  const t = useTranslations('access.statuses');
  return (
    <span className={`badge badge--${status}`} data-testid="status-badge" data-status={status}>
      {t.has(status as 'approved') ? t(status as 'approved') : status}
    </span>
  );
}

/** Where a request waits now: the step and whether a reviewer or the applicant must act. */
export function CurrentStep({ request }: { request: Pick<AccessRequest, 'pending' | 'status'> }) {
  const t = useTranslations('access');
  if (!request.pending) return <span className="muted">{request.status === 'approved' || request.status === 'rejected' || request.status === 'failed' ? t('list.closed') : t('list.starting')}</span>;
  const step = t(`steps.${request.pending.step}`);
  return <span>{request.pending.kind === 'applicant' ? t('list.waitingApplicant', { step }) : t('list.waitingReview', { step })}</span>;
}

/** A table of requests; each number links to `detailHref(id)`. */
export function RequestTable({
  items,
  caption,
  detailHref,
  showApplicant = false,
  testId,
}: {
  items: AccessRequest[];
  caption: string;
  detailHref(requestId: string): string;
  showApplicant?: boolean;
  testId: string;
}) {
  const t = useTranslations('access.list');
  const when = useDateTime();
  return (
    <div className="table-wrap" role="region" aria-label={caption} tabIndex={0}>
      <table className="table" data-testid={testId}>
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{t('columns.number')}</th>
            <th scope="col">{t('columns.title')}</th>
            {showApplicant ? <th scope="col">{t('columns.applicant')}</th> : null}
            <th scope="col">{t('columns.status')}</th>
            <th scope="col">{t('columns.step')}</th>
            <th scope="col">{t('columns.submitted')}</th>
            <th scope="col">{t('columns.updated')}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((r) => (
            <tr key={r.requestId} data-request-id={r.requestId}>
              <th scope="row" className="nowrap">
                <Link href={detailHref(r.requestId)} className="mono">
                  {r.requestId}
                </Link>
              </th>
              <td>{r.title}</td>
              {showApplicant ? (
                <td>
                  {r.applicantName}
                  <span className="table__desc">{r.institution}</span>
                </td>
              ) : null}
              <td>
                <StatusBadge status={r.status} />
              </td>
              <td>
                <CurrentStep request={r} />
              </td>
              <td className="nowrap">{when(r.createdAt)}</td>
              <td className="nowrap">{when(r.updatedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Ethics then the approval chain, with the open step highlighted (R-GOV-3, R-GOV-4). */
export function ApprovalChain({ request }: { request: AccessRequest }) {
  const t = useTranslations('access');
  const states = stepStates(request);
  return (
    <section aria-labelledby="chain-title">
      <h2 id="chain-title">{t('detail.chainTitle')}</h2>
      <ol className="chain" data-testid="approval-chain">
        {states.map(({ step, state }, i) => (
          <li
            key={step}
            className={`chain__step chain__step--${state}`}
            aria-current={state === 'current' ? 'step' : undefined}
            data-step={step}
            data-state={state}
          >
            <span className="chain__index" aria-hidden="true">
              {i + 1}
            </span>
            <span className="chain__name">{t(`steps.${step}`)}</span>
            <span className="chain__state">
              {state === 'current' && request.pending?.kind === 'applicant'
                ? t('chain.applicant')
                : t(`chain.${state}`)}
            </span>
          </li>
        ))}
      </ol>
    </section>
  );
}

/** The full history of a request, oldest first. */
export function HistoryTimeline({ history, applicant }: { history: HistoryEntry[]; applicant?: { id: string; name: string } }) {
  const t = useTranslations('access');
  const when = useDateTime();
  return (
    <section aria-labelledby="history-title">
      <h2 id="history-title">{t('detail.historyTitle')}</h2>
      <ol className="timeline" data-testid="history">
        {history.map((h, i) => (
          <li key={`${h.at}-${i}`} className={`timeline__item timeline__item--${h.action}`}>
            <p className="timeline__head">
              <span className="timeline__action">{t.has(`actions.${h.action}`) ? t(`actions.${h.action}`) : h.action}</span>
              {h.step ? <span className="tag tag--muted">{t(`steps.${h.step}`)}</span> : null}
            </p>
            <p className="timeline__meta">
              <time dateTime={h.at}>{when(h.at)}</time>
              {' · '}
              {h.actorId === 'system' ? t('detail.system') : (h.actorName ?? (applicant && h.actorId === applicant.id ? applicant.name : h.actorId))}
            </p>
            {h.comment ? <blockquote className="timeline__comment">{h.comment}</blockquote> : null}
          </li>
        ))}
      </ol>
      <TimeZoneNote />
    </section>
  );
}

/** Everything the applicant submitted, for reviewers and the applicant (R-GOV-2). */
export function RequestFacts({ request, datasetTitles }: { request: AccessRequest; datasetTitles?: Record<string, string> }) {
  const t = useTranslations('access');
  const tLevels = useTranslations('levels');
  const when = useDateTime();
  const row = (label: string, value: ReactNode) => (
    <div className="facts__row">
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
  const level = Math.min(5, Math.max(1, request.securityLevel));
  return (
    <dl className="facts" data-testid="request-facts">
      {row(t('detail.applicant'), `${request.applicantName} · ${request.institution}`)}
      {row(t('form.fieldNames.purposeCode'), `${request.purposeCode} · ${t.has(`purposes.${purposeKey(request.purposeCode)}`) ? t(`purposes.${purposeKey(request.purposeCode)}`) : ''}`)}
      {row(t('form.fieldNames.purpose'), <span className="prewrap">{request.purpose}</span>)}
      {row(t('form.fieldNames.academicStatement'), <span className="prewrap">{request.academicStatement}</span>)}
      {row(
        t('form.fieldNames.datasetIds'),
        <ul className="plain-list">
          {request.scope.datasetIds.map((id) => (
            <li key={id}>
              <span className="mono">{id}</span>
              {datasetTitles?.[id] ? ` — ${datasetTitles[id]}` : ''}
            </li>
          ))}
        </ul>,
      )}
      {row(
        t('form.fieldNames.modalities'),
        request.scope.modalities.length === 0 ? (
          t('detail.allModalities')
        ) : (
          <ul className="tags">
            {request.scope.modalities.map((m) => (
              <li key={m} className="tag tag--muted">
                {t.has(`modalities.${m}`) ? t(`modalities.${m}`) : m}
              </li>
            ))}
          </ul>
        ),
      )}
      {row(t('form.fieldNames.fields'), request.scope.fields.length === 0 ? t('detail.defaultFields') : <span className="mono">{request.scope.fields.join(', ')}</span>)}
      {row(t('form.fieldNames.requestedDurationDays'), t('detail.days', { count: request.requestedDurationDays }))}
      {row(t('detail.reviewType'), t(`reviewTypes.${request.reviewType}`))}
      {row(
        t('detail.level'),
        <span className={`level level--${level}`}>
          {t('detail.levelValue', { level: request.securityLevel })} · {tLevels(String(level) as '1')}
        </span>,
      )}
      {row(t('detail.patients'), request.patientCount)}
      {row(t('detail.agreement'), t('detail.agreementAccepted', { version: request.agreement.version, time: when(request.agreement.acceptedAt) }))}
      {row(t('detail.submitted'), when(request.createdAt))}
    </dl>
  );
}

/** The text under a form field naming its problem (client rule or server message with code). */
export function FieldError({ id, problem }: { id: string; problem: FieldProblem | undefined }) {
  const t = useTranslations('access.validation');
  if (!problem) return null;
  return (
    <p id={id} className="field__error">
      {problem.serverMessage ? (
        <>
          {problem.serverMessage} <code>{problem.code}</code>
        </>
      ) : (
        t(problem.key as 'required', problem.values as Record<string, number>)
      )}
    </p>
  );
}

/** `aria-describedby` value joining the ids that exist. */
export function describedBy(...ids: Array<string | false | undefined>): string | undefined {
  const list = ids.filter((x): x is string => Boolean(x));
  return list.length > 0 ? list.join(' ') : undefined;
}

/** Step label helper for pages that need a plain string. */
export function useStepLabel(): (step: ReviewStep) => string {
  const t = useTranslations('access.steps');
  return (step) => t(step);
}

/**
 * Shown while `/v1/me` loads (or failed): role-dependent pages wait for the roles rather than
 * flash a "no role" state.
 */
export function ProfilePending() {
  const t = useTranslations('home');
  const { meError, reloadMe } = usePortal();
  if (meError) return <ErrorPanel error={meError} onRetry={() => void reloadMe()} />;
  return (
    <p role="status" className="muted">
      {t('loading')}
    </p>
  );
}
