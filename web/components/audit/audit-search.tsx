'use client';

import { useTranslations } from 'next-intl';
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import type { AuditEvent, AuditEventQuery } from '../../lib/api-client';
import { AUDIT_PAGE_SIZE, AUDIT_RESOURCE_TYPES, auditQueryString, defaultDraft, draftToQuery, validateAuditDraft, type AuditDraftErrors, type AuditSearchDraft } from '../../lib/audit';
import { describedBy } from '../access/access-parts';
import { ErrorPanel } from '../error-panel';
import { usePortal, type ShownError } from '../portal-provider';
import { AuditEventDetail } from './audit-event-detail';
import { OutcomeBadge, reportError, useAuditTime } from './audit-parts';

interface Results {
  query: AuditEventQuery;
  /** Cursors of the pages shown so far; the first page has none. */
  cursors: Array<string | undefined>;
  items: AuditEvent[];
  next?: string;
}

/** Search of audit events by user id or by data item type + id over a time range (R-AUD-4). */
export function AuditSearch({ onForbidden }: { onForbidden(e: ShownError): void }) {
  const t = useTranslations('audit.search');
  const { api, config, me } = usePortal();
  const zone = config.institutionTimeZone;
  const [draft, setDraft] = useState<AuditSearchDraft>(() => defaultDraft(Date.now(), zone));
  const [errors, setErrors] = useState<AuditDraftErrors>({});
  const [results, setResults] = useState<Results | undefined>();
  const [error, setError] = useState<ShownError | undefined>();
  const [busy, setBusy] = useState(false);
  const [selected, setSelected] = useState<AuditEvent | undefined>();
  const formRef = useRef<HTMLFormElement>(null);
  const id = useId();

  async function load(query: AuditEventQuery, cursors: Array<string | undefined>) {
    setBusy(true);
    setError(undefined);
    try {
      const cursor = cursors[cursors.length - 1];
      const page = await api.auditEvents(auditQueryString({ ...query, cursor }));
      setResults({ query, cursors, items: page.items, next: page.cursor });
      setSelected(undefined);
    } catch (err) {
      reportError(err, onForbidden, setError);
    } finally {
      setBusy(false);
    }
  }

  function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (busy) return;
    const problems = validateAuditDraft(draft, zone);
    setErrors(problems);
    if (Object.keys(problems).length > 0) return;
    void load(draftToQuery(draft, zone, AUDIT_PAGE_SIZE), [undefined]);
  }

  // Focus moves to the first invalid field once the errors render, so keyboard and screen-reader users land on it.
  useEffect(() => {
    if (Object.keys(errors).length > 0) formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [errors]);

  const set = (patch: Partial<AuditSearchDraft>) => setDraft((d) => ({ ...d, ...patch }));
  const fieldError = (name: keyof AuditDraftErrors) =>
    errors[name] ? (
      <p id={`${id}-${name}-error`} className="field__error">
        {t(`validation.${errors[name]}` as 'validation.required')}
      </p>
    ) : null;
  const input = (name: 'actorId' | 'resourceType' | 'resourceId' | 'from' | 'to', props: { type?: string; list?: string; hint?: string; autoComplete?: string }) => (
    <div className="field">
      <label htmlFor={`${id}-${name}`} className="field__label">
        {t(`fields.${name}`)}
      </label>
      {props.hint ? (
        <p id={`${id}-${name}-hint`} className="field__hint">
          {props.hint}
        </p>
      ) : null}
      <input
        id={`${id}-${name}`}
        className="input"
        type={props.type ?? 'text'}
        list={props.list}
        autoComplete={props.autoComplete ?? 'off'}
        spellCheck={false}
        value={draft[name]}
        onChange={(e) => set({ [name]: e.target.value })}
        aria-invalid={errors[name] ? true : undefined}
        aria-describedby={describedBy(props.hint && `${id}-${name}-hint`, errors[name] && `${id}-${name}-error`)}
        data-testid={`audit-${name}`}
      />
      {fieldError(name)}
    </div>
  );

  return (
    <section aria-labelledby={`${id}-title`} className="stack">
      <h2 id={`${id}-title`} className="visually-hidden">
        {t('title')}
      </h2>
      <form ref={formRef} className="form form--wide card" onSubmit={onSubmit} noValidate data-testid="audit-search-form">
        <fieldset className="fieldset">
          <legend className="fieldset__legend">{t('by')}</legend>
          <ul className="choice-list choice-list--inline">
            {(['actor', 'resource'] as const).map((by) => (
              <li key={by}>
                <input type="radio" id={`${id}-by-${by}`} name={`${id}-by`} value={by} checked={draft.by === by} onChange={() => set({ by })} data-testid={`audit-by-${by}`} />
                <label htmlFor={`${id}-by-${by}`}>{t(`byOptions.${by}`)}</label>
              </li>
            ))}
          </ul>
        </fieldset>
        {draft.by === 'actor' ? (
          <div className="form__row">
            {input('actorId', { hint: t('actorHint') })}
            {me ? (
              <div className="field field--end">
                <button type="button" className="button button--secondary button--small" onClick={() => set({ actorId: me.userId })}>
                  {t('useMyId')}
                </button>
              </div>
            ) : null}
          </div>
        ) : (
          <div className="form__row">
            {input('resourceType', { list: `${id}-types` })}
            <datalist id={`${id}-types`}>
              {AUDIT_RESOURCE_TYPES.map((type) => (
                <option key={type} value={type} />
              ))}
            </datalist>
            {input('resourceId', {})}
          </div>
        )}
        <div className="form__row">
          {input('from', { type: 'datetime-local', hint: t('zoneHint', { zone }) })}
          {input('to', { type: 'datetime-local', hint: t('zoneHint', { zone }) })}
        </div>
        <div className="form__actions">
          <button type="submit" className="button" disabled={busy} data-testid="audit-search-submit">
            {busy ? t('searching') : t('submit')}
          </button>
          <button
            type="button"
            className="button button--secondary"
            onClick={() => {
              setDraft(defaultDraft(Date.now(), zone));
              setErrors({});
            }}
          >
            {t('reset')}
          </button>
        </div>
      </form>

      <p role="status" aria-live="polite" className={results ? 'muted' : 'visually-hidden'} data-testid="audit-result-status">
        {busy ? t('searching') : results ? (results.items.length === 0 ? t('noResults') : t('resultCount', { count: results.items.length, page: results.cursors.length })) : ''}
      </p>
      {error ? <ErrorPanel error={error} onRetry={results ? () => void load(results.query, results.cursors) : undefined} /> : null}
      {results && results.items.length > 0 ? (
        <EventTable
          items={results.items}
          page={results.cursors.length}
          selectedId={selected?.eventId}
          onSelect={setSelected}
        />
      ) : null}
      {results && (results.cursors.length > 1 || results.next) ? (
        <nav className="pager" aria-label={t('pager')}>
          <button
            type="button"
            className="button button--secondary button--small"
            disabled={busy || results.cursors.length <= 1}
            onClick={() => void load(results.query, results.cursors.slice(0, -1))}
            data-testid="audit-prev"
          >
            {t('previous')}
          </button>
          <span className="muted small">{t('pageLabel', { page: results.cursors.length })}</span>
          <button
            type="button"
            className="button button--secondary button--small"
            disabled={busy || !results.next}
            onClick={() => void load(results.query, [...results.cursors, results.next])}
            data-testid="audit-next"
          >
            {t('next')}
          </button>
        </nav>
      ) : null}
      {selected ? <AuditEventDetail event={selected} onClose={() => setSelected(undefined)} /> : null}
    </section>
  );
}

function EventTable({ items, page, selectedId, onSelect }: { items: AuditEvent[]; page: number; selectedId: string | undefined; onSelect(e: AuditEvent): void }) {
  const t = useTranslations('audit.search');
  const tc = useTranslations('audit.columns');
  const when = useAuditTime();
  const { config } = usePortal();
  const caption = t('caption', { count: items.length, page });
  return (
    <>
      <div className="table-wrap" role="region" aria-label={caption} tabIndex={0}>
        <table className="table table--clickable" data-testid="audit-events">
          <caption className="visually-hidden">{caption}</caption>
          <thead>
            <tr>
              <th scope="col">{tc('time')}</th>
              <th scope="col">{tc('operation')}</th>
              <th scope="col">{tc('actor')}</th>
              <th scope="col">{tc('resources')}</th>
              <th scope="col">{tc('outcome')}</th>
              <th scope="col">{tc('status')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((e) => (
              <tr
                key={e.eventId}
                data-event-id={e.eventId}
                aria-selected={selectedId === e.eventId ? true : undefined}
                className={selectedId === e.eventId ? 'is-selected' : undefined}
                // The whole row is a convenience target; the button in the first cell is the keyboard path.
                onClick={() => onSelect(e)}
              >
                <th scope="row" className="nowrap">
                  <button
                    type="button"
                    className="button--link"
                    onClick={(ev) => {
                      ev.stopPropagation();
                      onSelect(e);
                    }}
                    data-testid="audit-event-open"
                  >
                    {when(e.time)}
                    <span className="visually-hidden"> {t('openDetail')}</span>
                  </button>
                </th>
                <td className="mono">{e.operation}</td>
                <td>
                  <span className="mono">{e.actor.id}</span>
                  <span className="table__desc">{e.actor.roles.length > 0 ? e.actor.roles.join(', ') : e.actor.kind}</span>
                </td>
                <td>
                  {e.resources.length === 0 ? (
                    '—'
                  ) : (
                    <ul className="plain-list mono small">
                      {e.resources.map((r) => (
                        <li key={`${r.type}/${r.id}`}>
                          {r.type}/{r.id}
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
                <td>
                  <OutcomeBadge outcome={e.result.outcome} />
                </td>
                <td className="num">{e.result.status}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="muted small">{t('timesIn', { zone: config.institutionTimeZone })}</p>
    </>
  );
}
