'use client';

import Link from 'next/link';
import { useFormatter, useLocale, useTranslations } from 'next-intl';
import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import type { FhirResource, ReleasedPatientRecord, TimelineEvent } from '../../lib/api-client';
import { eventKind, groupByDay, groupByResourceType, recordLabel, recordsForEvent, recordsOfEncounter, shortToken, type EventKind } from '../../lib/research';
import { ErrorPanel } from '../error-panel';
import { toShownError, usePortal, type ShownError } from '../portal-provider';
import { ProfilePending, TimeZoneNote } from '../access/access-parts';
import { FhirRecord, useResourceTypeLabel } from './fhir-record';
import { CopyButton, useSexLabel } from './research-parts';
import { EventFiles, type ReleasedFile } from './file-previews';
import { ReidRequestPanel } from '../reidentification/reid-request-panel';

/** A released event with what curation and previews add (files with kinds, scrubbed annotations). */
type ReleasedEvent = TimelineEvent & { files?: ReleasedFile[]; source?: 'ingested' | 'manual'; annotations?: Array<{ at: string; byName?: string; text: string }> };

/**
 * `/patients/view/?grant=…&token=…`: one released, de-identified patient (R-DSR-2): the facts,
 * a timeline grouped by (shifted) date with the records each event refers to shown beside it,
 * and every record by type. Nothing here identifies the person: the API applied the grant's
 * de-identification policy, and the page says which one.
 */
export function PatientView({ grantId, token }: { grantId: string; token: string }) {
  const t = useTranslations('research');
  const { api, me } = usePortal();
  const [data, setData] = useState<ReleasedPatientRecord | undefined>();
  const [error, setError] = useState<ShownError | undefined>();

  const load = useCallback(() => {
    setError(undefined);
    api
      .grantPatient(grantId, token)
      .then(setData)
      .catch((err: unknown) => setError(toShownError(err)));
  }, [api, grantId, token]);
  useEffect(() => {
    if (grantId && token) load();
  }, [load, grantId, token]);

  const back = (
    <p>
      <Link href={`/patients/?grant=${encodeURIComponent(grantId)}`}>← {t('backToSearch')}</Link>
    </p>
  );
  if (!me) return <ProfilePending />;
  if (!grantId || !token) {
    return (
      <div className="stack">
        {back}
        <p className="notice notice--error">{t('missingParams')}</p>
      </div>
    );
  }
  if (error) {
    const title = error.code === 'FORBIDDEN' ? t('grantUnusable') : error.code === 'NOT_FOUND' ? t('patientNotFound') : undefined;
    return (
      <div className="stack">
        {back}
        <ErrorPanel title={title} error={error} onRetry={load} />
      </div>
    );
  }
  if (!data) {
    return (
      <div className="stack">
        {back}
        <p role="status" className="muted">
          {t('loadingPatient')}
        </p>
      </div>
    );
  }
  return <PatientDetail data={data} grantId={grantId} back={back} />;
}

function PatientDetail({ data, grantId, back }: { data: ReleasedPatientRecord; grantId: string; back: ReactNode }) {
  const t = useTranslations('research');
  const sexLabel = useSexLabel();
  const { patient, policy } = data;
  const [tab, setTab] = useState<'timeline' | 'records'>('timeline');
  const tabs = ['timeline', 'records'] as const;
  const tabRefs = useRef<Record<string, HTMLButtonElement | null>>({});

  // Arrow keys move between tabs (WAI-ARIA tabs pattern, automatic activation).
  function onTabKey(e: KeyboardEvent<HTMLButtonElement>) {
    const i = tabs.indexOf(tab);
    const next = e.key === 'ArrowRight' ? tabs[(i + 1) % tabs.length] : e.key === 'ArrowLeft' ? tabs[(i + tabs.length - 1) % tabs.length] : e.key === 'Home' ? tabs[0] : e.key === 'End' ? tabs[tabs.length - 1] : undefined;
    if (!next) return;
    e.preventDefault();
    setTab(next);
    tabRefs.current[next]?.focus();
  }

  const fact = (label: string, value: ReactNode, wide = false) => (
    <div className={wide ? 'patient-facts__item patient-facts__item--wide' : 'patient-facts__item'}>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );

  return (
    <div className="stack stack--tight">
      {back}
      <p className="notice notice--deid" data-testid="deid-banner">
        <span className="notice__title">{t('deidBanner', { policy: `${policy.id}@${policy.version}` })}</span>{' '}
        <span>{t('deidBannerDetail')}</span>
      </p>
      <header className="card patient-head" data-testid="patient-head">
        <p className="muted small">{t('pseudonym')}</p>
        <h1 className="patient-head__title">
          <span className="mono" data-testid="patient-token">
            {patient.token}
          </span>
          <CopyButton value={patient.token} label={t('copyToken', { token: shortToken(patient.token) })} />
        </h1>
        <dl className="patient-facts">
          {fact(t('columns.dataset'), <span className="mono">{patient.datasetId}</span>)}
          {fact(t('columns.sex'), sexLabel(patient.sex))}
          {fact(t('columns.ageBand'), patient.ageBand ?? '—')}
          {fact(t('columns.diagnosis'), patient.diagnosis ?? '—', true)}
          {fact(t('columns.stage'), patient.stage ?? '—')}
          {fact(t('columns.subtype'), patient.molecularSubtype ?? '—')}
          {fact(t('grant'), <span className="mono">{grantId}</span>)}
        </dl>
      </header>
      <ReidRequestPanel grantId={grantId} token={patient.token} />

      <div className="tabs" role="tablist" aria-label={t('tabsLabel')}>
        {tabs.map((id) => (
          <button
            key={id}
            ref={(el) => {
              tabRefs.current[id] = el;
            }}
            type="button"
            role="tab"
            id={`tab-${id}`}
            aria-selected={tab === id}
            aria-controls={`panel-${id}`}
            tabIndex={tab === id ? 0 : -1}
            className="tabs__tab"
            onClick={() => setTab(id)}
            onKeyDown={onTabKey}
            data-testid={`tab-${id}`}
          >
            {id === 'timeline' ? t('tabTimeline', { count: data.timeline.length }) : t('tabRecords', { count: data.records.length })}
          </button>
        ))}
      </div>
      <div role="tabpanel" id="panel-timeline" aria-labelledby="tab-timeline" hidden={tab !== 'timeline'} tabIndex={0} className="tabs__panel">
        <Timeline events={data.timeline} records={data.records} grantId={grantId} token={patient.token} />
      </div>
      <div role="tabpanel" id="panel-records" aria-labelledby="tab-records" hidden={tab !== 'records'} tabIndex={0} className="tabs__panel">
        {tab === 'records' ? <RecordsByType records={data.records} /> : null}
      </div>
    </div>
  );
}

/** Small per-type icons (inline SVG: no icon font, nothing fetched). */
const ICONS: Record<EventKind, ReactNode> = {
  visit: <path d="M3 14V6l5-4 5 4v8H9.5v-4h-3v4z" />,
  procedure: <path d="M2.5 13.5 11 5l1.8 1.8-8.5 8.5H2.5zM11.7 2.5l1.8 1.8-1.2 1.2-1.8-1.8z" />,
  medication: <path d="M5.2 2.8a3 3 0 0 1 4.2 0l3.8 3.8a3 3 0 0 1-4.2 4.2L5.2 7a3 3 0 0 1 0-4.2zM7.1 9 4 12.1" />,
  report: <path d="M4 1.5h5.5L12.5 4.5v10h-8.5zM6 7h4.5M6 9.5h4.5M6 12h3" />,
  imaging: <path d="M2 3h12v10H2zM8 5.5a2.5 2.5 0 1 1 0 5 2.5 2.5 0 0 1 0-5z" />,
  diagnosis: <path d="M6.5 2h3v4.5H14v3H9.5V14h-3V9.5H2v-3h4.5z" />,
  lab: <path d="M6 1.5h4M6.5 1.5v5L2.8 13a1 1 0 0 0 .9 1.5h8.6a1 1 0 0 0 .9-1.5L9.5 6.5v-5M4.5 10h7" />,
  nursing: <path d="M8 14s-5.5-3.3-5.5-7A3 3 0 0 1 8 5a3 3 0 0 1 5.5 2c0 3.7-5.5 7-5.5 7z" />,
  document: <path d="M4 1.5h5.5L12.5 4.5v10h-8.5zM9.5 1.5v3h3" />,
  other: <path d="M8 3a5 5 0 1 1 0 10A5 5 0 0 1 8 3z" />,
};

function EventIcon({ kind }: { kind: EventKind }) {
  return (
    <span className={`tl-icon tl-icon--${kind}`} aria-hidden="true">
      <svg viewBox="0 0 16 16" width="16" height="16" focusable="false" fill="none" stroke="currentColor" strokeWidth="1.4" strokeLinejoin="round" strokeLinecap="round">
        {ICONS[kind]}
      </svg>
    </span>
  );
}

/**
 * Title of an event in the current language. Some ingested events are titled with a bare FHIR
 * type ("ImagingStudy"); those take the label of the record they refer to.
 */
function useEventTitle(records: readonly FhirResource[]): (e: TimelineEvent) => string {
  const locale = useLocale();
  return (e) => {
    const title = (locale.startsWith('zh') ? e.title.zh : e.title.en) || e.title.zh || e.title.en;
    if (/^[A-Z][A-Za-z]+$/.test(title)) {
      const record = recordsForEvent(e, records)[0];
      if (record && record.resourceType === title) return recordLabel(record);
    }
    return title;
  };
}

/**
 * Vertical timeline grouped by day in the institution's time zone. Each event is a button
 * (Tab, or ↑/↓ between events); the selected event's records are shown beside the list.
 */
function Timeline({ events, records, grantId, token }: { events: ReleasedEvent[]; records: FhirResource[]; grantId: string; token: string }) {
  const t = useTranslations('research');
  const tp = useTranslations('preview');
  const format = useFormatter();
  const { config } = usePortal();
  const title = useEventTitle(records);
  const groups = useMemo(() => groupByDay(events, config.institutionTimeZone), [events, config.institutionTimeZone]);
  const [selectedId, setSelectedId] = useState<string | undefined>();
  const listRef = useRef<HTMLOListElement>(null);
  const selected = events.find((e) => e.eventId === selectedId);

  function onListKey(e: KeyboardEvent<HTMLOListElement>) {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const buttons = [...(listRef.current?.querySelectorAll<HTMLButtonElement>('button.tl-event') ?? [])];
    const i = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (i < 0) return;
    e.preventDefault();
    buttons[Math.max(0, Math.min(buttons.length - 1, i + (e.key === 'ArrowDown' ? 1 : -1)))]?.focus();
  }

  if (events.length === 0) return <p className="muted">{t('noEvents')}</p>;
  return (
    <div className="tl-layout">
      <div className="tl-main">
        <h2 id="timeline-title" className="visually-hidden">
          {t('timelineTitle')}
        </h2>
        <p className="muted small tl-hint">{t('timelineHint')}</p>
        <ol className="tl" ref={listRef} onKeyDown={onListKey} aria-labelledby="timeline-title" data-testid="timeline">
          {groups.map((g) => (
            <li key={g.day} className="tl-day" data-day={g.day}>
              <h3 className="tl-day__date">
                <time dateTime={g.day}>{format.dateTime(new Date(g.events[0]!.occurredAt), { year: 'numeric', month: 'long', day: 'numeric', weekday: 'short' })}</time>
              </h3>
              <ul className="tl-day__events">
                {g.events.map((e) => {
                  const kind = eventKind(e.type);
                  const isSelected = e.eventId === selectedId;
                  return (
                    <li key={e.eventId}>
                      <button
                        type="button"
                        className={`tl-event tl-event--${kind}`}
                        aria-pressed={isSelected}
                        aria-controls="event-detail"
                        onClick={() => setSelectedId(isSelected ? undefined : e.eventId)}
                        data-testid="timeline-event"
                        data-event-id={e.eventId}
                        data-type={e.type}
                        data-files={e.files?.map((f) => f.kind).join(',') ?? ''}
                        data-source={e.source ?? 'ingested'}
                      >
                        <EventIcon kind={kind} />
                        <span className="tl-event__body">
                          <span className="tl-event__title">{title(e)}</span>
                          <span className="tl-event__meta">
                            <time dateTime={e.occurredAt}>{format.dateTime(new Date(e.occurredAt), { hour: '2-digit', minute: '2-digit' })}</time>
                            {e.endedAt ? (
                              <>
                                {' – '}
                                <time dateTime={e.endedAt}>{format.dateTime(new Date(e.endedAt), { hour: '2-digit', minute: '2-digit' })}</time>
                              </>
                            ) : null}
                            {' · '}
                            {t.has(`eventTypes.${kind}`) ? t(`eventTypes.${kind}`) : e.type}
                            {e.files?.length ? <span className="tl-event__files"> · {tp('fileCount', { count: e.files.length })}</span> : null}
                            {e.annotations?.length ? <span className="tl-event__files"> · {tp('annotationCount', { count: e.annotations.length })}</span> : null}
                          </span>
                        </span>
                      </button>
                    </li>
                  );
                })}
              </ul>
            </li>
          ))}
        </ol>
        <TimeZoneNote />
      </div>
      <aside className="tl-detail" id="event-detail" aria-labelledby="event-detail-title" data-testid="event-detail">
        {selected ? (
          <EventDetail key={selected.eventId} event={selected} records={records} grantId={grantId} token={token} />
        ) : (
          <>
            <h2 id="event-detail-title" className="tl-detail__title">
              {t('eventDetailTitle')}
            </h2>
            <p className="muted">{t('chooseEvent')}</p>
          </>
        )}
      </aside>
    </div>
  );
}

function EventDetail({ event, records, grantId, token }: { event: ReleasedEvent; records: FhirResource[]; grantId: string; token: string }) {
  const t = useTranslations('research');
  const tp = useTranslations('preview');
  const locale = useLocale();
  const format = useFormatter();
  const title = useEventTitle(records);
  const typeLabel = useResourceTypeLabel();
  const linked = useMemo(() => recordsForEvent(event, records), [event, records]);
  const related = useMemo(() => {
    const encounter = linked.find((r) => r.resourceType === 'Encounter');
    return encounter ? recordsOfEncounter(encounter, records) : [];
  }, [linked, records]);
  const kind = eventKind(event.type);
  return (
    <>
      <h2 id="event-detail-title" className="tl-detail__title">
        <EventIcon kind={kind} />
        <span>{title(event)}</span>
      </h2>
      <p className="muted small">
        {t.has(`eventTypes.${kind}`) ? t(`eventTypes.${kind}`) : event.type} ·{' '}
        <time dateTime={event.occurredAt}>{format.dateTime(new Date(event.occurredAt), { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })}</time>
      </p>
      <p role="status" className="visually-hidden">
        {t('eventRecordsCount', { count: linked.length, title: title(event) })}
      </p>
      {event.annotations?.length ? (
        <section className="pv-notes" aria-label={tp('annotations')} data-testid="event-annotations">
          <h3 className="pv__title">{tp('annotations')}</h3>
          <ul className="pv-notes__list">
            {event.annotations.map((a, i) => (
              <li key={i} className="pv-notes__item">
                <p className="pv-notes__text">{a.text}</p>
                <p className="muted small">
                  {a.byName ?? tp('staff')} · <time dateTime={a.at}>{format.dateTime(new Date(a.at), { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })}</time>
                </p>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      <div className={event.files?.length ? 'pv-split' : undefined}>
        {linked.length === 0 ? (
          <p className="muted" data-testid="no-linked-record">
            {t('noLinkedRecord')}
          </p>
        ) : (
          <div className="tl-detail__records" data-testid="event-records">
            {linked.map((r, i) => (
              <FhirRecord key={r.id ?? i} record={r} />
            ))}
          </div>
        )}
        {event.files?.length ? <EventFiles files={event.files} grantId={grantId} token={token} locale={locale} /> : null}
      </div>
      {related.length > 0 ? (
        <details className="related">
          <summary>{t('relatedRecords', { count: related.length })}</summary>
          <ul className="related__list">
            {groupByResourceType(related).map((g) => (
              <li key={g.type}>
                <p className="related__type">
                  {typeLabel(g.type)} ({g.records.length})
                </p>
                {g.records.map((r, i) => (
                  <FhirRecord key={r.id ?? i} record={r} headingLevel={4} />
                ))}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </>
  );
}

/** Every released record, grouped by FHIR resource type with counts. */
function RecordsByType({ records }: { records: FhirResource[] }) {
  const t = useTranslations('research');
  const typeLabel = useResourceTypeLabel();
  const groups = useMemo(() => groupByResourceType(records), [records]);
  if (records.length === 0) return <p className="muted">{t('noRecords')}</p>;
  return (
    <div className="records" data-testid="records-by-type">
      <h2 id="records-title">{t('recordsTitle')}</h2>
      <ul className="tags records__summary" aria-label={t('recordCounts')}>
        {groups.map((g) => (
          <li key={g.type} className="tag">
            <a
              href={`#records-${g.type}`}
              onClick={() => {
                // Jumping to a closed group would show only its summary: open it first.
                const el = document.getElementById(`records-${g.type}`);
                if (el instanceof HTMLDetailsElement) el.open = true;
              }}
            >
              {typeLabel(g.type)} <span className="records__count">{g.records.length}</span>
            </a>
          </li>
        ))}
      </ul>
      {groups.map((g) => (
        <details key={g.type} className="records__group" id={`records-${g.type}`} data-resource-type={g.type}>
          <summary>
            <span className="records__group-title">{typeLabel(g.type)}</span> <span className="badge">{t('recordCount', { count: g.records.length })}</span>
          </summary>
          <div className="records__list">
            {g.records.map((r, i) => (
              <FhirRecord key={r.id ?? i} record={r} />
            ))}
          </div>
        </details>
      ))}
    </div>
  );
}
