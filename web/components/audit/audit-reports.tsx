'use client';

import { useTranslations } from 'next-intl';
import { useCallback, useEffect, useId, useMemo, useState, type FormEvent } from 'react';
import { createAuditReport, fetchAuditReportPdf, listAuditReports, recentQuarters, type AuditReportRecord } from '../../lib/audit-insights-api';
import { ErrorPanel } from '../error-panel';
import { usePortal, type ShownError } from '../portal-provider';
import { reportError, useAuditTime } from './audit-parts';

/** Quarterly audit reports (R-AUD-6): generate one for a quarter, list the archived ones, download the PDF. */
export function AuditReports({ onForbidden }: { onForbidden(e: ShownError): void }) {
  const t = useTranslations('audit.reports');
  const when = useAuditTime();
  const { api, config } = usePortal();
  const quarters = useMemo(() => recentQuarters(new Date()), []);
  const [period, setPeriod] = useState(quarters[0]!);
  const [items, setItems] = useState<AuditReportRecord[] | undefined>();
  const [error, setError] = useState<ShownError | undefined>();
  const [busy, setBusy] = useState<'list' | 'generate' | undefined>();
  const [status, setStatus] = useState('');
  const periodId = useId();

  const load = useCallback(async () => {
    setBusy('list');
    setError(undefined);
    try {
      setItems((await listAuditReports(api)).items);
    } catch (err) {
      reportError(err, onForbidden, setError);
    } finally {
      setBusy(undefined);
    }
  }, [api, onForbidden]);
  useEffect(() => {
    void load();
  }, [load]);

  async function generate(e: FormEvent) {
    e.preventDefault();
    setBusy('generate');
    setError(undefined);
    setStatus(t('generating'));
    try {
      const r = await createAuditReport(api, period);
      setItems((prev) => [r, ...(prev ?? [])]);
      setStatus(t('generated', { period: r.period }));
    } catch (err) {
      setStatus('');
      reportError(err, onForbidden, setError);
    } finally {
      setBusy(undefined);
    }
  }

  async function download(r: AuditReportRecord) {
    setError(undefined);
    try {
      const blob = await fetchAuditReportPdf(config, r.reportId);
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = `mdrp-audit-report-${r.period}-${r.reportId}.pdf`;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setStatus(t('downloaded', { period: r.period }));
    } catch (err) {
      reportError(err, onForbidden, setError);
    }
  }

  return (
    <section aria-labelledby="audit-reports-title" className="stack">
      <div className="section-head">
        <h2 id="audit-reports-title">{t('title')}</h2>
      </div>
      <p className="muted">{t('intro')}</p>
      <form className="form__actions" onSubmit={(e) => void generate(e)} data-testid="audit-report-form">
        <div className="field field--inline">
          <label htmlFor={periodId} className="field__label">
            {t('period')}
          </label>
          <select id={periodId} className="input" value={period} onChange={(e) => setPeriod(e.target.value)} data-testid="audit-report-period">
          {quarters.map((q) => (
            <option key={q} value={q}>
              {q}
            </option>
          ))}
          </select>
        </div>
        <button type="submit" className="button" disabled={busy !== undefined} data-testid="audit-report-generate">
          {t('generate')}
        </button>
      </form>
      <p role="status" aria-live="polite" className="muted" data-testid="audit-reports-status">
        {busy === 'list' ? t('loading') : status}
      </p>
      {error ? <ErrorPanel error={error} onRetry={() => void load()} /> : null}
      {items && items.length === 0 ? <p className="muted">{t('empty')}</p> : null}
      {items && items.length > 0 ? (
        <div className="table-wrap" role="region" aria-labelledby="audit-reports-title" tabIndex={0}>
          <table className="table" data-testid="audit-reports">
            <caption className="visually-hidden">{t('caption', { count: items.length })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('columns.period')}</th>
                <th scope="col">{t('columns.generated')}</th>
                <th scope="col">{t('columns.events')}</th>
                <th scope="col">{t('columns.alerts')}</th>
                <th scope="col">{t('columns.sha256')}</th>
                <th scope="col">{t('columns.file')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((r) => (
                <tr key={r.reportId} data-report-id={r.reportId}>
                  <th scope="row">{r.period}</th>
                  <td className="nowrap">
                    {when(r.generatedAt)}
                    <span className="table__desc mono">{r.generatedBy}</span>
                  </td>
                  <td>{t('eventsValue', { events: r.totals.events, denied: r.totals.denied, failure: r.totals.failure })}</td>
                  <td>{r.alertCount}</td>
                  <td className="mono small break">{r.sha256}</td>
                  <td>
                    <button type="button" className="button button--secondary button--small" onClick={() => void download(r)} aria-label={t('downloadLabel', { period: r.period, id: r.reportId })}>
                      {t('download')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
