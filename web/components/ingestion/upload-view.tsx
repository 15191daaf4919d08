'use client';

import { useTranslations } from 'next-intl';
import { useEffect, useId, useState, type FormEvent } from 'react';
import type { DatasetSummary } from '../../lib/api-client';
import {
  KINDS_NEEDING_PATIENT_REF,
  UPLOAD_KINDS,
  contentTypeOf,
  createUpload,
  getJob,
  guessKind,
  putToStaging,
  sha256Hex,
  waitForOutcome,
  type IngestJob,
  type Upload,
  type UploadKindId,
} from '../../lib/ingestion-api';
import { ErrorPanel } from '../error-panel';
import { JobLineage } from './job-lineage';
import { toShownError, usePortal, type ShownError } from '../portal-provider';

type Phase = 'ready' | 'hashing' | 'requesting' | 'uploading' | 'processing' | 'accepted' | 'rejected' | 'failed';

interface Row {
  key: string;
  file: File;
  kind: UploadKindId | '';
  patientRef: string;
  phase: Phase;
  progress: number;
  upload?: Upload;
  job?: IngestJob;
  error?: string;
}

/**
 * Upload for data managers and data providers (R-ING-1, R-ING-4, R-ING-5): files are hashed in
 * the browser (SHA-256, WebCrypto), PUT to a presigned staging URL bound to that hash, then the
 * page follows processing and shows the job report: accepted counts and each rejected item with
 * its machine-readable reason. Tables need their column mapping first (upload
 * `column-mapping.json` as "column mapping"); documents name their patient (source id or MRN).
 */
export function UploadView() {
  const t = useTranslations('ingestion');
  const { api, me } = usePortal();
  const ids = useId();
  const [datasets, setDatasets] = useState<DatasetSummary[] | undefined>();
  const [datasetId, setDatasetId] = useState('');
  const [institution, setInstitution] = useState('');
  const [sourceSystem, setSourceSystem] = useState('');
  const [rows, setRows] = useState<Row[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShownError | undefined>();
  const [announce, setAnnounce] = useState('');
  const isManager = me?.roles.includes('data-manager') ?? false;

  useEffect(() => {
    api
      .datasets()
      .then((list) => {
        setDatasets(list);
        setDatasetId((d) => d || list[0]?.datasetId || '');
      })
      .catch((e: unknown) => setError(toShownError(e)));
  }, [api]);

  const patch = (key: string, p: Partial<Row>) => setRows((rs) => rs.map((r) => (r.key === key ? { ...r, ...p } : r)));

  const onFiles = (list: FileList | null) => {
    const picked = [...(list ?? [])].map((file, i) => ({ key: `${Date.now()}-${i}-${file.name}`, file, kind: guessKind(file.name) ?? ('' as const), patientRef: '', phase: 'ready' as Phase, progress: 0 }));
    setRows(picked);
  };

  const runOne = async (row: Row) => {
    if (!row.kind) return patch(row.key, { phase: 'failed', error: t('errors.kindRequired') });
    if (row.file.size === 0) return patch(row.key, { phase: 'rejected', error: 'EMPTY_FILE' });
    try {
      patch(row.key, { phase: 'hashing' });
      const sha256 = await sha256Hex(row.file);
      patch(row.key, { phase: 'requesting' });
      const ticket = await createUpload(api, {
        datasetId,
        fileName: row.file.name,
        contentType: contentTypeOf(row.kind),
        sizeBytes: row.file.size,
        sha256,
        ...(sourceSystem.trim() ? { sourceSystem: sourceSystem.trim() } : {}),
        ...(isManager && institution.trim() ? { institution: institution.trim() } : {}),
        ...(KINDS_NEEDING_PATIENT_REF.includes(row.kind) && row.patientRef.trim() ? { patientRef: row.patientRef.trim() } : {}),
      });
      patch(row.key, { phase: 'uploading', upload: ticket.upload });
      await putToStaging(ticket, row.file, (f) => patch(row.key, { progress: f }));
      patch(row.key, { phase: 'processing', progress: 1 });
      const outcome = await waitForOutcome(api, ticket.upload.uploadId);
      const job = outcome.jobId ? await getJob(api, outcome.jobId) : undefined;
      patch(row.key, { phase: outcome.status === 'accepted' ? 'accepted' : outcome.status === 'rejected' ? 'rejected' : 'processing', upload: outcome, ...(job ? { job } : {}) });
    } catch (e) {
      const shown = toShownError(e);
      patch(row.key, { phase: 'failed', error: shown.code === 'INTERNAL' || !shown.code ? shown.message : shown.code });
    }
  };

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setAnnounce(t('announce.started', { count: rows.length }));
    // One at a time: a later file may depend on an earlier one (patients before their records, mapping before tables).
    for (const row of rows) await runOne(row);
    setBusy(false);
    setAnnounce(t('announce.finished'));
  };

  return (
    <section aria-labelledby={`${ids}-title`} className="card stack">
      <h2 id={`${ids}-title`}>{t('upload.title')}</h2>
      <p className="muted">{t('upload.intro')}</p>
      {error ? <ErrorPanel error={error} /> : null}
      <p role="status" aria-live="polite" className="visually-hidden">
        {announce}
      </p>
      <form className="form" onSubmit={onSubmit} data-testid="upload-form">
        <div className="field">
          <label className="field__label" htmlFor={`${ids}-dataset`}>
            {t('upload.dataset')}
          </label>
          <select id={`${ids}-dataset`} className="select select--field" value={datasetId} onChange={(e) => setDatasetId(e.target.value)} required disabled={!datasets}>
            {(datasets ?? []).map((d) => (
              <option key={d.datasetId} value={d.datasetId}>
                {d.title} ({d.datasetId})
              </option>
            ))}
          </select>
        </div>
        {isManager ? (
          <div className="field">
            <label className="field__label" htmlFor={`${ids}-institution`}>
              {t('upload.institution')}
            </label>
            <input id={`${ids}-institution`} className="input" value={institution} onChange={(e) => setInstitution(e.target.value)} placeholder={me?.institution} pattern="[a-z0-9-]{3,64}" aria-describedby={`${ids}-institution-hint`} />
            <span id={`${ids}-institution-hint`} className="muted">
              {t('upload.institutionHint')}
            </span>
          </div>
        ) : null}
        <div className="field">
          <label className="field__label" htmlFor={`${ids}-source`}>
            {t('upload.sourceSystem')}
          </label>
          <input id={`${ids}-source`} className="input" value={sourceSystem} onChange={(e) => setSourceSystem(e.target.value)} maxLength={64} />
        </div>
        <div className="field">
          <label className="field__label" htmlFor={`${ids}-files`}>
            {t('upload.files')}
          </label>
          <input id={`${ids}-files`} type="file" multiple className="input" onChange={(e) => onFiles(e.target.files)} data-testid="upload-files" aria-describedby={`${ids}-files-hint`} />
          <span id={`${ids}-files-hint`} className="muted">
            {t('upload.filesHint')}
          </span>
        </div>
        {rows.length ? (
          <div className="table-wrap" role="region" aria-labelledby={`${ids}-list`} tabIndex={0}>
            <table className="table" data-testid="upload-list">
              <caption id={`${ids}-list`}>{t('upload.listCaption', { count: rows.length })}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('columns.file')}</th>
                  <th scope="col">{t('columns.kind')}</th>
                  <th scope="col">{t('columns.patientRef')}</th>
                  <th scope="col">{t('columns.status')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r, i) => (
                  <tr key={r.key} data-testid="upload-row" data-phase={r.phase}>
                    <th scope="row">
                      <span className="table__title">{r.file.name}</span>
                      <span className="table__desc">{t('size', { kb: Math.max(1, Math.round(r.file.size / 1024)) })}</span>
                    </th>
                    <td>
                      <label className="visually-hidden" htmlFor={`${ids}-kind-${i}`}>
                        {t('columns.kindOf', { file: r.file.name })}
                      </label>
                      <select id={`${ids}-kind-${i}`} className="select" value={r.kind} onChange={(e) => patch(r.key, { kind: e.target.value as UploadKindId })} disabled={busy}>
                        <option value="">{t('kinds.choose')}</option>
                        {UPLOAD_KINDS.map((k) => (
                          <option key={k.id} value={k.id}>
                            {t(`kinds.${k.id}`)}
                          </option>
                        ))}
                      </select>
                    </td>
                    <td>
                      {r.kind && KINDS_NEEDING_PATIENT_REF.includes(r.kind) ? (
                        <>
                          <label className="visually-hidden" htmlFor={`${ids}-ref-${i}`}>
                            {t('columns.patientRefOf', { file: r.file.name })}
                          </label>
                          <input id={`${ids}-ref-${i}`} className="input" value={r.patientRef} onChange={(e) => patch(r.key, { patientRef: e.target.value })} pattern="[A-Za-z0-9._\-]{1,64}" disabled={busy} data-testid="patient-ref" />
                        </>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                    <td>
                      <RowStatus row={r} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        <div className="form__actions">
          <button type="submit" className="button" disabled={busy || !rows.length || !datasetId} data-testid="upload-submit">
            {busy ? t('upload.working') : t('upload.submit')}
          </button>
        </div>
      </form>
      {rows.some((r) => r.job) ? (
        <div className="stack" data-testid="upload-reports">
          <h3>{t('report.title')}</h3>
          {rows.filter((r) => r.job).map((r) => (
            <JobReport key={r.key} fileName={r.file.name} job={r.job!} />
          ))}
        </div>
      ) : null}
    </section>
  );
}

function RowStatus({ row }: { row: Row }) {
  const t = useTranslations('ingestion');
  if (row.phase === 'uploading') {
    return (
      <span>
        {t('phase.uploading')} <progress max={1} value={row.progress} aria-label={t('progressOf', { file: row.file.name })} />
      </span>
    );
  }
  const reason = row.upload?.rejection?.detail ?? row.error;
  return (
    <span data-testid="upload-status">
      <span className={`badge badge--${row.phase === 'accepted' ? 'approved' : row.phase === 'rejected' || row.phase === 'failed' ? 'rejected' : 'approval'}`}>{t(`phase.${row.phase}`)}</span>
      {(row.phase === 'rejected' || row.phase === 'failed') && reason ? (
        <>
          {' '}
          <code data-testid="upload-reason">{reason}</code>
        </>
      ) : null}
    </span>
  );
}

function JobReport({ fileName, job }: { fileName: string; job: IngestJob }) {
  const t = useTranslations('ingestion');
  const id = useId();
  return (
    <section aria-labelledby={id} className="card" data-testid="job-report">
      <h4 id={id}>{fileName}</h4>
      <p data-testid="job-counts">{t('report.counts', { accepted: job.counts.accepted, rejected: job.counts.rejected, patients: job.counts.patients, newPatients: job.counts.newPatients, duplicates: job.counts.probableDuplicates, events: job.counts.timelineEvents })}</p>
      {job.rejected.length ? (
        <div className="table-wrap" role="region" aria-labelledby={`${id}-cap`} tabIndex={0}>
          <table className="table" data-testid="job-rejected">
            <caption id={`${id}-cap`}>{t('report.rejectedCaption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('report.line')}</th>
                <th scope="col">{t('report.code')}</th>
                <th scope="col">{t('report.issues')}</th>
              </tr>
            </thead>
            <tbody>
              {job.rejected.map((r, i) => (
                <tr key={i}>
                  <td className="num">{r.line}</td>
                  <td>
                    <code>{r.code}</code>
                    {r.resourceType ? <span className="table__desc">{r.resourceType}</span> : null}
                  </td>
                  <td>{r.issues.join('; ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {job.counts.accepted > 0 ? <JobLineage jobId={job.jobId} /> : null}
    </section>
  );
}
