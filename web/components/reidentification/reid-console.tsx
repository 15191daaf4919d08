'use client';

import { useFormatter, useTranslations } from 'next-intl';
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import {
  decideReidentification,
  listReidentificationRequests,
  openApprovalRoles,
  viewReidentificationResult,
  type ReidRequest,
  type ReidResult,
} from '../../lib/reidentification-api';
import { ErrorPanel } from '../error-panel';
import { toShownError, usePortal, type ShownError } from '../portal-provider';
import { ProfilePending } from '../access/access-parts';

/**
 * `/reidentification/` (R-DEID-3): researchers follow their requests and view an approved result
 * once; ethics reviewers and security administrators decide the requests waiting for them.
 */
export function ReidConsole() {
  const t = useTranslations('reid');
  const { me } = usePortal();
  if (!me) return <ProfilePending />;
  const approver = me.roles.some((r) => r === 'ethics-reviewer' || r === 'security-admin');
  const researcher = me.roles.includes('researcher');
  return (
    <div className="stack">
      <header className="page-head">
        <h1>{t('pageTitle')}</h1>
        <p className="muted">{t('pageIntro')}</p>
      </header>
      {approver ? <QueueSection /> : null}
      {researcher ? <MineSection /> : null}
      {!approver && !researcher ? <p className="notice">{t('notForRole')}</p> : null}
    </div>
  );
}

function useList(view: 'mine' | 'queue') {
  const { api } = usePortal();
  const [items, setItems] = useState<ReidRequest[] | undefined>();
  const [error, setError] = useState<ShownError | undefined>();
  const load = useCallback(() => {
    setError(undefined);
    listReidentificationRequests(api, view)
      .then(setItems)
      .catch((err: unknown) => setError(toShownError(err)));
  }, [api, view]);
  useEffect(load, [load]);
  return { items, error, load, setItems };
}

function StatusBadge({ r }: { r: ReidRequest }) {
  const t = useTranslations('reid');
  const cls = r.status === 'approved' || r.status === 'consumed' ? 'badge badge--approved' : r.status === 'rejected' || r.status === 'expired' ? 'badge badge--rejected' : 'badge badge--approval';
  return <span className={cls}>{t(`status.${r.status}`)}</span>;
}

function Summary({ r }: { r: ReidRequest }) {
  const t = useTranslations('reid');
  const format = useFormatter();
  const when = (iso: string) => format.dateTime(new Date(iso), { dateStyle: 'medium', timeStyle: 'short' });
  const open = openApprovalRoles(r);
  return (
    <dl className="facts facts--compact">
      <div className="facts__row">
        <dt>{t('fields.request')}</dt>
        <dd className="mono">{r.requestId}</dd>
      </div>
      <div className="facts__row">
        <dt>{t('fields.status')}</dt>
        <dd>
          <StatusBadge r={r} />
        </dd>
      </div>
      <div className="facts__row">
        <dt>{t('fields.pseudonym')}</dt>
        <dd className="mono break">{r.token}</dd>
      </div>
      <div className="facts__row">
        <dt>{t('fields.grant')}</dt>
        <dd className="mono">{r.grantId}</dd>
      </div>
      <div className="facts__row">
        <dt>{t('fields.requester')}</dt>
        <dd>{r.requesterName}</dd>
      </div>
      <div className="facts__row">
        <dt>{t('reason')}</dt>
        <dd>{t(`reasons.${r.reason}`)}</dd>
      </div>
      <div className="facts__row">
        <dt>{t('justification')}</dt>
        <dd className="prewrap">{r.justification}</dd>
      </div>
      <div className="facts__row">
        <dt>{t('fields.approvals')}</dt>
        <dd>
          {r.approvals.length ? (
            <ul className="plain-list">
              {r.approvals.map((a) => (
                <li key={a.role}>{t('approvedBy', { role: t(`roles.${a.role}`), name: a.decidedByName ?? a.decidedBy, at: when(a.at) })}</li>
              ))}
            </ul>
          ) : (
            t('noApprovals')
          )}
          {open.length ? <p className="small muted">{t('waitingFor', { roles: open.map((x) => t(`roles.${x}`)).join(' · ') })}</p> : null}
        </dd>
      </div>
      {r.rejection ? (
        <div className="facts__row">
          <dt>{t('fields.rejection')}</dt>
          <dd>{t('rejectedBy', { role: t(`roles.${r.rejection.role}`), name: r.rejection.decidedByName ?? r.rejection.decidedBy, comment: r.rejection.comment })}</dd>
        </div>
      ) : null}
      {r.viewableUntil && r.status === 'approved' ? (
        <div className="facts__row">
          <dt>{t('fields.viewableUntil')}</dt>
          <dd>{when(r.viewableUntil)}</dd>
        </div>
      ) : null}
      {r.consumedAt ? (
        <div className="facts__row">
          <dt>{t('fields.consumedAt')}</dt>
          <dd>{when(r.consumedAt)}</dd>
        </div>
      ) : null}
    </dl>
  );
}

function QueueSection() {
  const t = useTranslations('reid');
  const { items, error, load } = useList('queue');
  const id = useId();
  return (
    <section className="stack stack--tight" aria-labelledby={`${id}-q`} data-testid="reid-queue">
      <h2 id={`${id}-q`}>{t('queueTitle')}</h2>
      {error ? <ErrorPanel error={error} onRetry={load} /> : null}
      {!items && !error ? (
        <p role="status" className="muted">
          {t('loading')}
        </p>
      ) : null}
      {items && items.length === 0 ? <p className="muted">{t('queueEmpty')}</p> : null}
      {items?.map((r) => (
        <article key={r.requestId} className="card" data-testid="reid-queue-item">
          <Summary r={r} />
          <DecisionForm request={r} onDone={load} />
        </article>
      ))}
    </section>
  );
}

function DecisionForm({ request, onDone }: { request: ReidRequest; onDone(): void }) {
  const t = useTranslations('reid');
  const { api } = usePortal();
  const [comment, setComment] = useState('');
  const [needComment, setNeedComment] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShownError | undefined>();
  const [done, setDone] = useState<string | undefined>();
  const id = useId();

  async function decide(outcome: 'approved' | 'rejected') {
    if (busy) return;
    if (outcome === 'rejected' && !comment.trim()) {
      setNeedComment(true);
      return;
    }
    setNeedComment(false);
    setBusy(true);
    setError(undefined);
    try {
      const r = await decideReidentification(api, request.requestId, outcome, comment);
      setDone(t(`decided.${outcome}`, { status: t(`status.${r.status}`) }));
    } catch (err) {
      setError(toShownError(err));
    } finally {
      setBusy(false);
    }
  }

  if (done) {
    return (
      <div className="stack stack--tight">
        <p className="notice notice--success" role="status">
          {done}
        </p>
        <button type="button" className="button button--secondary button--small" onClick={onDone}>
          {t('refresh')}
        </button>
      </div>
    );
  }
  return (
    <div className="form form--compact">
      {error ? <ErrorPanel error={error} /> : null}
      <div className="field">
        <label htmlFor={`${id}-c`} className="field__label">
          {t('comment')}
        </label>
        <textarea id={`${id}-c`} className="input textarea" rows={2} value={comment} onChange={(e) => setComment(e.target.value)} aria-invalid={needComment ? true : undefined} aria-describedby={needComment ? `${id}-err` : undefined} data-testid="reid-comment" />
        {needComment ? (
          <p id={`${id}-err`} className="field__error">
            {t('commentRequired')}
          </p>
        ) : null}
      </div>
      <div className="form__actions">
        <button type="button" className="button button--small" disabled={busy} onClick={() => void decide('approved')} data-testid="reid-approve">
          {t('approve')}
        </button>
        <button type="button" className="button button--danger button--small" disabled={busy} onClick={() => void decide('rejected')} data-testid="reid-reject">
          {t('reject')}
        </button>
      </div>
    </div>
  );
}

function MineSection() {
  const t = useTranslations('reid');
  const { items, error, load } = useList('mine');
  const id = useId();
  return (
    <section className="stack stack--tight" aria-labelledby={`${id}-m`} data-testid="reid-mine">
      <h2 id={`${id}-m`}>{t('mineTitle')}</h2>
      {error ? <ErrorPanel error={error} onRetry={load} /> : null}
      {!items && !error ? (
        <p role="status" className="muted">
          {t('loading')}
        </p>
      ) : null}
      {items && items.length === 0 ? <p className="muted">{t('mineEmpty')}</p> : null}
      {items?.map((r) => (
        <article key={r.requestId} className="card" data-testid="reid-mine-item">
          <Summary r={r} />
          {r.status === 'approved' ? <OneTimeResult request={r} onViewed={load} /> : null}
        </article>
      ))}
    </section>
  );
}

/** The one-time view: confirm, show, and say it will not be shown again. */
function OneTimeResult({ request, onViewed }: { request: ReidRequest; onViewed(): void }) {
  const t = useTranslations('reid');
  const { api } = usePortal();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShownError | undefined>();
  const [result, setResult] = useState<ReidResult | undefined>();
  const resultRef = useRef<HTMLDivElement>(null);
  const id = useId();
  useEffect(() => {
    if (result) resultRef.current?.focus();
  }, [result]);

  async function reveal() {
    setBusy(true);
    setError(undefined);
    try {
      setResult(await viewReidentificationResult(api, request.requestId));
    } catch (err) {
      setError(toShownError(err));
    } finally {
      setBusy(false);
    }
  }

  if (result) {
    return (
      <div className="card card--attention" tabIndex={-1} ref={resultRef} aria-labelledby={`${id}-r`} role="region" data-testid="reid-result">
        <h3 id={`${id}-r`}>{t('resultTitle')}</h3>
        <p className="notice">{t('resultOnce')}</p>
        <table className="table">
          <caption className="table__title">{t('resultCaption')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('fields.institution')}</th>
              <th scope="col">{t('fields.sourceReference')}</th>
              <th scope="col">{t('fields.mrn')}</th>
            </tr>
          </thead>
          <tbody>
            {result.sources.map((s) => (
              <tr key={s.sourcePatientReference}>
                <td>{s.institution}</td>
                <td className="mono">{s.sourcePatientReference}</td>
                <td className="mono">{s.mrn ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="small">{result.notice}</p>
        <button type="button" className="button button--secondary button--small" onClick={onViewed}>
          {t('done')}
        </button>
      </div>
    );
  }
  return (
    <div className="stack stack--tight">
      {error ? <ErrorPanel error={error} /> : null}
      {!confirming ? (
        <button type="button" className="button button--small" onClick={() => setConfirming(true)} data-testid="reid-view">
          {t('viewOnce')}
        </button>
      ) : (
        <div className="notice" role="group" aria-label={t('confirmLabel')}>
          <p>{t('confirmText')}</p>
          <div className="form__actions">
            <button type="button" className="button button--small" disabled={busy} onClick={() => void reveal()} data-testid="reid-confirm-view">
              {t('confirmView')}
            </button>
            <button type="button" className="button button--secondary button--small" onClick={() => setConfirming(false)}>
              {t('cancel')}
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
