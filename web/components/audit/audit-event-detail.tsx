'use client';

import { useTranslations } from 'next-intl';
import { useEffect, useRef, type ReactNode } from 'react';
import type { AuditEvent } from '../../lib/api-client';
import { OutcomeBadge, useAuditTime } from './audit-parts';

/** Every field of one audit event, including the policy ids of the decision and the parameters. */
export function AuditEventDetail({ event, onClose }: { event: AuditEvent; onClose(): void }) {
  const t = useTranslations('audit.detail');
  const tEffect = useTranslations('audit.effects');
  const when = useAuditTime();
  const headingRef = useRef<HTMLHeadingElement>(null);

  // Move focus to the panel so keyboard and screen-reader users notice it opened.
  useEffect(() => headingRef.current?.focus(), [event.eventId]);

  const row = (label: string, value: ReactNode, testId?: string) => (
    <div className="facts__row">
      <dt>{label}</dt>
      <dd data-testid={testId}>{value ?? '—'}</dd>
    </div>
  );
  const mono = (value: string | undefined) => (value ? <span className="mono">{value}</span> : '—');
  const params = Object.entries(event.parameters);

  return (
    <section className="card audit-detail" aria-labelledby="audit-detail-title" data-testid="audit-event-detail">
      <div className="section-head">
        <h2 id="audit-detail-title" ref={headingRef} tabIndex={-1}>
          {t('title')}
        </h2>
        <button type="button" className="button button--secondary button--small" onClick={onClose} data-testid="audit-detail-close">
          {t('close')}
        </button>
      </div>
      <dl className="facts">
        {row(t('eventId'), mono(event.eventId), 'detail-event-id')}
        {row(t('time'), `${when(event.time)} (${event.time})`)}
        {row(t('correlationId'), mono(event.correlationId))}
        {row(t('category'), mono(event.category))}
        {row(t('operation'), mono(event.operation), 'detail-operation')}
        {row(t('actorKind'), event.actor.kind)}
        {row(t('actorId'), mono(event.actor.id), 'detail-actor-id')}
        {row(t('actorRoles'), event.actor.roles.length > 0 ? event.actor.roles.join(', ') : '—')}
        {row(t('actorInstitution'), event.actor.institution ?? '—')}
        {row(t('apiKeyId'), mono(event.actor.apiKeyId))}
        {row(t('sourceIp'), mono(event.source.ip))}
        {row(t('userAgent'), event.source.userAgent ? <span className="small break">{event.source.userAgent}</span> : '—')}
        {row(
          t('resources'),
          event.resources.length === 0 ? (
            '—'
          ) : (
            <ul className="plain-list mono">
              {event.resources.map((r) => (
                <li key={`${r.type}/${r.id}`}>
                  {r.type}/{r.id}
                </li>
              ))}
            </ul>
          ),
        )}
        {row(t('decisionEffect'), event.decision ? tEffect(event.decision.effect) : t('noDecision'), 'detail-decision')}
        {row(
          t('policyIds'),
          event.decision && event.decision.policyIds.length > 0 ? (
            <ul className="plain-list mono" data-testid="detail-policy-ids">
              {event.decision.policyIds.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          ) : (
            '—'
          ),
        )}
        {row(t('outcome'), <OutcomeBadge outcome={event.result.outcome} />)}
        {row(t('status'), String(event.result.status), 'detail-status')}
        {row(t('errorCode'), mono(event.result.errorCode))}
        {row(t('count'), event.result.count === undefined ? '—' : String(event.result.count))}
      </dl>
      <h3 className="audit-detail__sub">{t('parameters')}</h3>
      {params.length === 0 ? (
        <p className="muted">{t('noParameters')}</p>
      ) : (
        <div className="table-wrap" role="region" aria-label={t('parameters')} tabIndex={0}>
          <table className="table" data-testid="detail-parameters">
            <caption className="visually-hidden">{t('parameters')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('parameterName')}</th>
                <th scope="col">{t('parameterValue')}</th>
              </tr>
            </thead>
            <tbody>
              {params.map(([name, value]) => (
                <tr key={name}>
                  <th scope="row" className="mono">
                    {name}
                  </th>
                  <td className="mono break">{String(value)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
