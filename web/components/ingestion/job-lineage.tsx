'use client';

import { useFormatter, useTranslations } from 'next-intl';
import { useId, useState, type ReactNode } from 'react';
import { jobRecords, recordLineage, type JobRecord, type Lineage } from '../../lib/ingestion-api';
import { ErrorPanel } from '../error-panel';
import { toShownError, usePortal, type ShownError } from '../portal-provider';

const keyOf = (r: JobRecord) => `${r.patientId}/${r.resourceType}/${r.id}`;

/**
 * Lineage per job and per record (R-ING-6), under a job report: the records the job wrote, a
 * page at a time, and for a chosen record its source system and id, file and checksum, operator,
 * time and the transformations applied, with their versions.
 */
export function JobLineage({ jobId }: { jobId: string }) {
  const t = useTranslations('ingestion.lineage');
  const format = useFormatter();
  const { api } = usePortal();
  const id = useId();
  const [records, setRecords] = useState<JobRecord[] | undefined>();
  const [cursor, setCursor] = useState<string | undefined>();
  const [chosen, setChosen] = useState<{ record: JobRecord; lineage?: Lineage } | undefined>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShownError | undefined>();

  const loadPage = async (after?: string) => {
    setBusy(true);
    setError(undefined);
    try {
      const page = await jobRecords(api, jobId, after);
      setRecords((prev) => [...(after ? (prev ?? []) : []), ...page.records]);
      setCursor(page.cursor);
    } catch (e) {
      setError(toShownError(e));
    } finally {
      setBusy(false);
    }
  };

  const choose = async (record: JobRecord) => {
    setChosen({ record });
    setError(undefined);
    try {
      const lineage = await recordLineage(api, record);
      setChosen((c) => (c && keyOf(c.record) === keyOf(record) ? { record, lineage } : c));
    } catch (e) {
      setError(toShownError(e));
    }
  };

  if (!records) {
    return (
      <div className="form__actions">
        <button type="button" className="button button--secondary button--small" disabled={busy} onClick={() => void loadPage()} data-testid="lineage-open">
          {busy ? t('loading') : t('open')}
        </button>
        {error ? <ErrorPanel error={error} onRetry={() => void loadPage()} /> : null}
      </div>
    );
  }

  return (
    <div className="stack" data-testid="job-lineage">
      <h5 id={`${id}-cap`}>{t('title')}</h5>
      {error ? <ErrorPanel error={error} /> : null}
      {records.length === 0 ? (
        <p className="muted">{t('none')}</p>
      ) : (
        <div className="table-wrap" role="region" aria-labelledby={`${id}-cap`} tabIndex={0}>
          <table className="table" data-testid="lineage-records">
            <thead>
              <tr>
                <th scope="col">{t('record')}</th>
                <th scope="col">{t('patient')}</th>
                <th scope="col">
                  <span className="visually-hidden">{t('actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {records.map((r) => (
                <tr key={keyOf(r)} aria-current={chosen && keyOf(chosen.record) === keyOf(r) ? 'true' : undefined}>
                  <td>
                    <code>
                      {r.resourceType}/{r.id}
                    </code>
                  </td>
                  <td>
                    <code>{r.patientId}</code>
                  </td>
                  <td>
                    <button type="button" className="button button--secondary button--small" onClick={() => void choose(r)} data-testid="lineage-show" aria-label={t('showFor', { record: `${r.resourceType}/${r.id}` })}>
                      {t('show')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor ? (
        <div className="form__actions">
          <button type="button" className="button button--secondary button--small" disabled={busy} onClick={() => void loadPage(cursor)} data-testid="lineage-more">
            {busy ? t('loading') : t('more')}
          </button>
        </div>
      ) : null}
      {chosen ? (
        <section aria-live="polite" data-testid="lineage-detail" data-record={keyOf(chosen.record)}>
          <h6>{t('detailTitle', { record: `${chosen.record.resourceType}/${chosen.record.id}` })}</h6>
          {chosen.lineage ? (
            <dl className="facts facts--compact">
              <Fact term={t('sourceSystem')}>{chosen.lineage.sourceSystem}</Fact>
              <Fact term={t('sourceId')}>
                <code>{chosen.lineage.sourceId}</code>
              </Fact>
              <Fact term={t('institution')}>{chosen.lineage.institution}</Fact>
              <Fact term={t('file')}>
                {chosen.lineage.fileName}{' '}
                <code className="table__desc" title={chosen.lineage.fileSha256}>
                  SHA-256 {chosen.lineage.fileSha256.slice(0, 16)}…
                </code>
              </Fact>
              <Fact term={t('job')}>
                <code>{chosen.lineage.jobId}</code>
              </Fact>
              <Fact term={t('operator')}>{chosen.lineage.operator}</Fact>
              <Fact term={t('at')}>
                <time dateTime={chosen.lineage.at}>{format.dateTime(new Date(chosen.lineage.at), { dateStyle: 'medium', timeStyle: 'short' })}</time>
              </Fact>
              <Fact term={t('transformations')}>
                <ol data-testid="lineage-transformations">
                  {chosen.lineage.transformations.map((x) => (
                    <li key={x.name}>
                      <code>{x.name}</code> {x.version}
                    </li>
                  ))}
                </ol>
              </Fact>
            </dl>
          ) : (
            <p role="status" className="muted">
              {t('loading')}
            </p>
          )}
        </section>
      ) : null}
    </div>
  );
}

function Fact({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div className="facts__row">
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}
