'use client';

import { useFormatter, useLocale, useTranslations } from 'next-intl';
import { useRouter, useSearchParams } from 'next/navigation';
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { addTimelineEvent, annotateTimelineEvent, CURATED_EVENT_TYPES, editTimelineEvent, getPatientTimeline, isStaleVersion, listCuratablePatients, type CuratablePatient, type CuratedEvent, type CuratedEventType, type CuratedTimeline } from '../../lib/timeline-api';
import { ErrorPanel } from '../error-panel';
import { toShownError, usePortal, type ShownError } from '../portal-provider';
import { ProfilePending } from '../access/access-parts';

const PATIENT_ID = /^PT-[A-Z0-9]{6,24}$/;

/** `datetime-local` value (local wall clock) ↔ ISO instant. */
const toLocalInput = (iso: string) => {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
};
const fromLocalInput = (v: string) => new Date(v).toISOString();

/**
 * `/timeline/`: a data manager curates one patient's timeline (R-MPI-4, R-ANA-2): finds the
 * patient by the internal pseudonymous id (`PT-…`; the identity vault is never shown), adds
 * lifecycle events with linked files, edits them (the version read is sent back; a concurrent
 * change is reported, not overwritten) and annotates them. Researchers see the result through
 * their grants, de-identified.
 */
export function TimelineCurationView() {
  const t = useTranslations('curation');
  const { api, me } = usePortal();
  const router = useRouter();
  const params = useSearchParams();
  const patientParam = params.get('patient') ?? '';
  const [query, setQuery] = useState(patientParam);
  const [data, setData] = useState<CuratedTimeline | undefined>();
  const [error, setError] = useState<ShownError | undefined>();
  const [notice, setNotice] = useState('');
  const inputId = useId();

  const load = useCallback(
    (patientId: string) => {
      setError(undefined);
      getPatientTimeline(api, patientId)
        .then(setData)
        .catch((err: unknown) => {
          setData(undefined);
          setError(toShownError(err));
        });
    },
    [api],
  );
  useEffect(() => {
    if (PATIENT_ID.test(patientParam)) load(patientParam);
  }, [load, patientParam]);

  if (!me) return <ProfilePending />;
  if (!me.roles.includes('data-manager')) return <p className="notice notice--error">{t('onlyDataManagers')}</p>;

  function find(e: FormEvent) {
    e.preventDefault();
    const id = query.trim().toUpperCase();
    if (!PATIENT_ID.test(id)) {
      setError({ code: 'VALIDATION_FAILED', message: t('badPatientId') });
      return;
    }
    router.replace(`/timeline/?patient=${encodeURIComponent(id)}`);
    if (id === patientParam) load(id);
  }

  const changed = (message: string) => {
    setNotice(message);
    if (data) load(data.patientId);
  };

  return (
    <div className="stack tl-curation">
      <div className="page-head">
        <div>
          <h1>{t('pageTitle')}</h1>
          <p className="muted">{t('intro')}</p>
        </div>
      </div>
      <form className="card tl-curation__form" onSubmit={find} role="search" aria-label={t('findLabel')}>
        <div className="field">
          <label htmlFor={inputId} className="field__label">
            {t('patientId')}
          </label>
          <input id={inputId} className="input mono" value={query} onChange={(e) => setQuery(e.target.value)} placeholder="PT-000000000001" autoComplete="off" spellCheck={false} data-testid="patient-id" />
        </div>
        <button type="submit" className="button" data-testid="find-patient">
          {t('find')}
        </button>
      </form>
      <p role="status" className={notice ? 'notice' : 'visually-hidden'} data-testid="curation-status">
        {notice}
      </p>
      {error ? <ErrorPanel title={error.code === 'NOT_FOUND' ? t('notFound') : error.code === 'FORBIDDEN' ? t('otherInstitution') : undefined} error={error} /> : null}
      {!data ? <PatientPicker onOpen={(id) => router.replace(`/timeline/?patient=${encodeURIComponent(id)}`)} /> : null}
      {data ? (
        <>
          <AddEventForm data={data} onAdded={(e) => changed(t('added', { title: e.title.en || e.title.zh }))} />
          <EventTable data={data} onChanged={changed} />
        </>
      ) : null}
    </div>
  );
}

/** The institution's patients by pseudonymous id (no vault value), to pick one. */
function PatientPicker({ onOpen }: { onOpen: (patientId: string) => void }) {
  const t = useTranslations('curation');
  const { api } = usePortal();
  const [page, setPage] = useState<{ items: CuratablePatient[]; total: number } | undefined>();
  const [error, setError] = useState<ShownError | undefined>();
  useEffect(() => {
    listCuratablePatients(api, undefined, 50)
      .then(setPage)
      .catch((err: unknown) => setError(toShownError(err)));
  }, [api]);
  if (error) return <ErrorPanel error={error} />;
  if (!page) return <p role="status" className="muted">{t('loadingPatients')}</p>;
  return (
    <section className="card" aria-labelledby="curation-patients">
      <h2 id="curation-patients">{t('patientsTitle', { shown: page.items.length, total: page.total })}</h2>
      <div className="table-wrap" role="region" aria-labelledby="curation-patients" tabIndex={0}>
        <table className="table" data-testid="curation-patients">
          <thead>
            <tr>
              <th scope="col">{t('patientId')}</th>
              <th scope="col">{t('diagnosis')}</th>
              <th scope="col">{t('stage')}</th>
              <th scope="col">{t('actions')}</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((p) => (
              <tr key={p.patientId} data-patient-id={p.patientId}>
                <td className="mono">{p.patientId}</td>
                <td>{p.diagnosis ?? '—'}</td>
                <td>{p.stage ?? '—'}</td>
                <td>
                  <button type="button" className="button button--secondary" onClick={() => onOpen(p.patientId)} aria-label={t('openPatient', { id: p.patientId })} data-testid="open-curation-patient">
                    {t('find')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function useTypeLabel() {
  const t = useTranslations('curation.types');
  return (type: string) => (t.has(type as CuratedEventType) ? t(type as CuratedEventType) : type);
}

function AddEventForm({ data, onAdded }: { data: CuratedTimeline; onAdded: (e: CuratedEvent) => void }) {
  const t = useTranslations('curation');
  const typeLabel = useTypeLabel();
  const locale = useLocale();
  const { api } = usePortal();
  const id = useId();
  const [type, setType] = useState<CuratedEventType>('follow-up');
  const [at, setAt] = useState('');
  const [end, setEnd] = useState('');
  const [zh, setZh] = useState('');
  const [en, setEn] = useState('');
  const [files, setFiles] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShownError | undefined>();
  // Files worth linking by hand: documents and images (DICOM is linked at ingest to its study's event).
  const linkable = data.files.filter((f) => ['pdf', 'image', 'text'].includes(f.kind));

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const ev = await addTimelineEvent(api, data.patientId, { type, occurredAt: fromLocalInput(at), ...(end ? { endedAt: fromLocalInput(end) } : {}), title: { zh, en }, fileIds: files });
      setZh('');
      setEn('');
      setFiles([]);
      onAdded(ev);
    } catch (err) {
      setError(toShownError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card tl-curation__form" onSubmit={(e) => void submit(e)} aria-labelledby={`${id}-h`} data-testid="add-event-form">
      <h2 id={`${id}-h`} style={{ gridColumn: '1 / -1', margin: 0 }}>
        {t('addTitle')}
      </h2>
      <div className="field">
        <label htmlFor={`${id}-type`} className="field__label">
          {t('type')}
        </label>
        <select id={`${id}-type`} className="select select--field" value={type} onChange={(e) => setType(e.target.value as CuratedEventType)} data-testid="event-type">
          {CURATED_EVENT_TYPES.map((x) => (
            <option key={x} value={x}>
              {typeLabel(x)}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-at`} className="field__label">
          {t('occurredAt')}
        </label>
        <input id={`${id}-at`} type="datetime-local" className="input" value={at} onChange={(e) => setAt(e.target.value)} required data-testid="event-at" />
      </div>
      <div className="field">
        <label htmlFor={`${id}-end`} className="field__label">
          {t('endedAt')}
        </label>
        <input id={`${id}-end`} type="datetime-local" className="input" value={end} onChange={(e) => setEnd(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-zh`} className="field__label">
          {t('titleZh')}
        </label>
        <input id={`${id}-zh`} className="input" lang="zh-CN" value={zh} maxLength={200} onChange={(e) => setZh(e.target.value)} data-testid="event-title-zh" />
      </div>
      <div className="field">
        <label htmlFor={`${id}-en`} className="field__label">
          {t('titleEn')}
        </label>
        <input id={`${id}-en`} className="input" lang="en" value={en} maxLength={200} onChange={(e) => setEn(e.target.value)} data-testid="event-title-en" />
      </div>
      {linkable.length ? (
        <fieldset className="tl-curation__files">
          <legend>{t('linkFiles')}</legend>
          {linkable.map((f) => (
            <label key={f.fileId} className="small" style={{ display: 'block' }}>
              <input type="checkbox" checked={files.includes(f.fileId)} onChange={(e) => setFiles((cur) => (e.target.checked ? [...cur, f.fileId] : cur.filter((x) => x !== f.fileId)))} data-testid="link-file" data-kind={f.kind} />{' '}
              <span className="badge">{f.kind}</span> {(locale.startsWith('zh') ? f.description.zh : f.description.en) || f.fileId}
            </label>
          ))}
        </fieldset>
      ) : null}
      <button type="submit" className="button" disabled={busy || !at || (!zh.trim() && !en.trim())} data-testid="add-event">
        {t('add')}
      </button>
      {error ? <ErrorPanel error={error} /> : null}
    </form>
  );
}

function EventTable({ data, onChanged }: { data: CuratedTimeline; onChanged: (message: string) => void }) {
  const t = useTranslations('curation');
  const format = useFormatter();
  const locale = useLocale();
  const typeLabel = useTypeLabel();
  const [open, setOpen] = useState<string | undefined>();
  const title = (e: CuratedEvent) => (locale.startsWith('zh') ? e.title.zh : e.title.en) || e.title.zh || e.title.en;
  return (
    <section className="card" aria-labelledby="curation-events">
      <h2 id="curation-events">{t('eventsTitle', { count: data.events.length })}</h2>
      <div className="table-wrap" role="region" aria-labelledby="curation-events" tabIndex={0}>
        <table className="table" data-testid="curation-events">
          <thead>
            <tr>
              <th scope="col">{t('occurredAt')}</th>
              <th scope="col">{t('type')}</th>
              <th scope="col">{t('eventTitle')}</th>
              <th scope="col">{t('linked')}</th>
              <th scope="col">{t('version')}</th>
              <th scope="col">{t('actions')}</th>
            </tr>
          </thead>
          <tbody>
            {data.events.map((e) => (
              <EventRow key={e.eventId} event={e} patientId={data.patientId} open={open === e.eventId} onToggle={() => setOpen(open === e.eventId ? undefined : e.eventId)} onChanged={onChanged} label={title(e)} when={format.dateTime(new Date(e.occurredAt), { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })} typeLabel={typeLabel(e.type)} />
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function EventRow({ event, patientId, open, onToggle, onChanged, label, when, typeLabel }: { event: CuratedEvent; patientId: string; open: boolean; onToggle: () => void; onChanged: (m: string) => void; label: string; when: string; typeLabel: string }) {
  const t = useTranslations('curation');
  const { api } = usePortal();
  const id = useId();
  const [zh, setZh] = useState(event.title.zh);
  const [en, setEn] = useState(event.title.en);
  const [at, setAt] = useState(toLocalInput(event.occurredAt));
  const [note, setNote] = useState('');
  const [error, setError] = useState<ShownError | undefined>();
  const [busy, setBusy] = useState(false);

  async function run(action: () => Promise<unknown>, done: string) {
    setBusy(true);
    setError(undefined);
    try {
      await action();
      onChanged(done);
    } catch (err) {
      // A stale version: someone else changed the event. Show it and reload, never overwrite.
      if (isStaleVersion(err)) onChanged(t('stale'));
      else setError(toShownError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <tr data-testid="curation-event" data-event-id={event.eventId} data-source={event.source}>
        <td>
          <time dateTime={event.occurredAt}>{when}</time>
        </td>
        <td>{typeLabel}</td>
        <td>
          {label}
          {event.source === 'manual' ? <span className="badge"> {t('manual')}</span> : null}
          {event.annotations.length ? <span className="muted small"> · {t('annotationCount', { count: event.annotations.length })}</span> : null}
        </td>
        <td className="small">{t('linkedCounts', { records: event.recordRefs.length, files: event.fileIds.length })}</td>
        <td>v{event.version}</td>
        <td>
          <button type="button" className="button button--secondary" aria-expanded={open} aria-controls={`${id}-panel`} onClick={onToggle} data-testid="open-event">
            {t('curate')}
          </button>
        </td>
      </tr>
      {open ? (
        <tr id={`${id}-panel`}>
          <td colSpan={6}>
            <div className="tl-curation__form">
              <div className="field">
                <label htmlFor={`${id}-zh`} className="field__label">
                  {t('titleZh')}
                </label>
                <input id={`${id}-zh`} className="input" lang="zh-CN" value={zh} onChange={(e) => setZh(e.target.value)} />
              </div>
              <div className="field">
                <label htmlFor={`${id}-en`} className="field__label">
                  {t('titleEn')}
                </label>
                <input id={`${id}-en`} className="input" lang="en" value={en} onChange={(e) => setEn(e.target.value)} data-testid="edit-title-en" />
              </div>
              <div className="field">
                <label htmlFor={`${id}-at`} className="field__label">
                  {t('occurredAt')}
                </label>
                <input id={`${id}-at`} type="datetime-local" className="input" value={at} onChange={(e) => setAt(e.target.value)} />
              </div>
              <button type="button" className="button" disabled={busy} onClick={() => void run(() => editTimelineEvent(api, patientId, event.eventId, { expectedVersion: event.version, title: { zh, en }, occurredAt: fromLocalInput(at) }), t('saved'))} data-testid="save-event">
                {t('save', { version: event.version })}
              </button>
              <div className="field" style={{ gridColumn: '1 / -1' }}>
                <label htmlFor={`${id}-note`} className="field__label">
                  {t('annotation')}
                </label>
                <textarea id={`${id}-note`} className="input textarea" rows={3} maxLength={4000} value={note} onChange={(e) => setNote(e.target.value)} aria-describedby={`${id}-note-hint`} data-testid="annotation-text" />
                <p id={`${id}-note-hint`} className="field__hint">
                  {t('annotationHint')}
                </p>
              </div>
              <button type="button" className="button" disabled={busy || !note.trim()} onClick={() => void run(() => annotateTimelineEvent(api, patientId, event.eventId, note.trim()), t('annotated'))} data-testid="add-annotation">
                {t('annotate')}
              </button>
            </div>
            {event.annotations.length ? (
              <ul className="pv-notes__list" aria-label={t('annotationsOf', { title: label })}>
                {event.annotations.map((a) => (
                  <li key={a.annotationId} className="pv-notes__item">
                    <p className="pv-notes__text">{a.text}</p>
                    <p className="muted small">
                      {a.byName ?? a.by} · <time dateTime={a.at}>{new Date(a.at).toLocaleString()}</time>
                    </p>
                  </li>
                ))}
              </ul>
            ) : null}
            {event.history.length ? (
              <details>
                <summary>{t('history', { count: event.history.length })}</summary>
                <ul className="small">
                  {event.history.map((h) => (
                    <li key={h.version}>
                      v{h.version} · {t(`changes.${h.change}`)} · {h.fields.join(', ')} · {h.by} · <time dateTime={h.at}>{new Date(h.at).toLocaleString()}</time>
                    </li>
                  ))}
                </ul>
              </details>
            ) : null}
            {error ? <ErrorPanel error={error} /> : null}
          </td>
        </tr>
      ) : null}
    </>
  );
}
