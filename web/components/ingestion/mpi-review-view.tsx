'use client';

import { useTranslations } from 'next-intl';
import { useCallback, useEffect, useId, useState } from 'react';
import { dismissReview, listMerges, listReviews, mergePatients, unmergePatients, type MpiReviewCase, type PatientMerge, type ReviewPatient } from '../../lib/ingestion-api';
import { ErrorPanel } from '../error-panel';
import { toShownError, usePortal, type ShownError } from '../portal-provider';

/**
 * Probable duplicates of the master patient index for data managers (R-MPI-2): compare the two
 * patients side by side (masked: first character of the name, birth year, sex, institution,
 * which identifier kinds exist — never identifier values), merge one into the other or dismiss
 * the case; past merges can be undone.
 */
export function MpiReviewView() {
  const t = useTranslations('mpi');
  const { api } = usePortal();
  const ids = useId();
  const [cases, setCases] = useState<MpiReviewCase[] | undefined>();
  const [merges, setMerges] = useState<PatientMerge[] | undefined>();
  const [error, setError] = useState<ShownError | undefined>();
  const [working, setWorking] = useState<string | undefined>();
  const [announce, setAnnounce] = useState('');

  const load = useCallback(() => {
    setError(undefined);
    Promise.all([listReviews(api), listMerges(api)])
      .then(([c, m]) => {
        setCases(c);
        setMerges(m);
      })
      .catch((e: unknown) => setError(toShownError(e)));
  }, [api]);
  useEffect(() => load(), [load]);

  const act = async (key: string, fn: () => Promise<unknown>, done: string) => {
    setWorking(key);
    setError(undefined);
    try {
      await fn();
      setAnnounce(done);
      load();
    } catch (e) {
      setError(toShownError(e));
    } finally {
      setWorking(undefined);
    }
  };

  return (
    <section aria-labelledby={`${ids}-title`} className="card stack" data-testid="mpi-review">
      <div className="section-head">
        <h2 id={`${ids}-title`}>{t('title')}</h2>
        <button type="button" className="button button--secondary button--small" onClick={load}>
          {t('reload')}
        </button>
      </div>
      <p className="muted">{t('intro')}</p>
      <p role="status" aria-live="polite" className="visually-hidden">
        {announce}
      </p>
      {error ? <ErrorPanel error={error} onRetry={load} /> : null}
      {!cases ? (
        <p role="status" className="muted">
          {t('loading')}
        </p>
      ) : cases.length === 0 ? (
        <p className="muted" data-testid="mpi-empty">
          {t('empty')}
        </p>
      ) : (
        cases.map((c) => (
          <article key={c.reviewId} className="card" data-testid="mpi-case" aria-labelledby={`${ids}-${c.reviewId}`}>
            <h3 id={`${ids}-${c.reviewId}`}>{t('caseTitle', { a: c.patient.patientId, b: c.candidate.patientId })}</h3>
            <p className="muted">{t(`reasons.${c.reason === 'same-name-birthdate-sex' ? 'sameNameBirthdateSex' : 'other'}`)}</p>
            <Comparison a={c.patient} b={c.candidate} />
            <div className="form__actions">
              {[c.patient, c.candidate].map((keep) => (
                <button
                  key={keep.patientId}
                  type="button"
                  className="button"
                  disabled={Boolean(working)}
                  onClick={() => act(c.reviewId, () => mergePatients(api, c.reviewId, keep.patientId), t('merged'))}
                  data-testid="mpi-merge"
                >
                  {t('keep', { id: keep.patientId })}
                </button>
              ))}
              <button type="button" className="button button--secondary" disabled={Boolean(working)} onClick={() => act(c.reviewId, () => dismissReview(api, c.reviewId), t('dismissed'))} data-testid="mpi-dismiss">
                {t('dismiss')}
              </button>
            </div>
          </article>
        ))
      )}
      <h3 id={`${ids}-merges`}>{t('mergesTitle')}</h3>
      {merges && merges.length ? (
        <div className="table-wrap" role="region" aria-labelledby={`${ids}-merges`} tabIndex={0}>
          <table className="table" data-testid="mpi-merges">
            <thead>
              <tr>
                <th scope="col">{t('columns.survivor')}</th>
                <th scope="col">{t('columns.merged')}</th>
                <th scope="col">{t('columns.moved')}</th>
                <th scope="col">{t('columns.status')}</th>
                <th scope="col">{t('columns.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {merges.map((m) => (
                <tr key={m.mergeId} data-testid="mpi-merge-row" data-status={m.status}>
                  <td>
                    <code>{m.survivorId}</code>
                  </td>
                  <td>
                    <code>{m.mergedId}</code>
                  </td>
                  <td>{t('moved', { records: m.counts.records, events: m.counts.timelineEvents, files: m.counts.files })}</td>
                  <td>{t(`status.${m.status}`)}</td>
                  <td>
                    {m.status === 'merged' ? (
                      <button type="button" className="button button--secondary button--small" disabled={Boolean(working)} onClick={() => act(m.mergeId, () => unmergePatients(api, m.mergeId), t('unmerged'))} data-testid="mpi-unmerge">
                        {t('unmerge')}
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p className="muted">{t('noMerges')}</p>
      )}
    </section>
  );
}

function Comparison({ a, b }: { a: ReviewPatient; b: ReviewPatient }) {
  const t = useTranslations('mpi');
  const id = useId();
  const sources = (p: ReviewPatient) =>
    p.sources.map((s, i) => (
      <div key={i}>
        {s.maskedName} · {s.birthYear ?? '—'} · {t(`sex.${s.sex}`)} · {s.institution}
        <span className="table__desc">{t('identifiers', { kinds: s.identifierKinds.map((k) => t(`kinds.${k}`)).join(', ') || '—' })}</span>
      </div>
    ));
  const rows: Array<[string, (p: ReviewPatient) => React.ReactNode]> = [
    [t('rows.sources'), sources],
    [t('rows.datasets'), (p) => p.datasets.join(', ') || '—'],
    [t('rows.data'), (p) => t('moved', { records: p.records, events: p.timelineEvents, files: p.files })],
  ];
  return (
    <div className="table-wrap" role="region" aria-labelledby={id} tabIndex={0}>
      <table className="table" data-testid="mpi-compare">
        <caption id={id} className="visually-hidden">
          {t('compareCaption')}
        </caption>
        <thead>
          <tr>
            <th scope="col">{t('columns.field')}</th>
            <th scope="col">
              <code>{a.patientId}</code>
            </th>
            <th scope="col">
              <code>{b.patientId}</code>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([label, cell]) => (
            <tr key={label}>
              <th scope="row">{label}</th>
              <td>{cell(a)}</td>
              <td>{cell(b)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
