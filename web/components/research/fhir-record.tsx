'use client';

import { useTranslations } from 'next-intl';
import type { FhirResource } from '../../lib/api-client';
import { recordFacts, recordLabel, securityLabels } from '../../lib/research';
import { useDateTime } from '../access/access-parts';

/** Label of a FHIR resource type in the current language (unknown types shown as named). */
export function useResourceTypeLabel(): (type: string) => string {
  const t = useTranslations('research.resourceTypes');
  return (type) => (t.has(type as 'Condition') ? t(type as 'Condition') : type);
}

/**
 * One de-identified FHIR resource shown readably (code, stage, value + unit, dates …), with its
 * de-identification marks and the raw JSON behind a disclosure for those who need every field.
 */
export function FhirRecord({ record, headingLevel = 3 }: { record: FhirResource; headingLevel?: 3 | 4 }) {
  const t = useTranslations('research.fhir');
  const typeLabel = useResourceTypeLabel();
  const when = useDateTime();
  const facts = recordFacts(record);
  const marks = securityLabels(record);
  const Heading = headingLevel === 3 ? 'h3' : 'h4';
  return (
    <article className="record" data-testid="fhir-record" data-resource-type={record.resourceType} data-record-id={record.id}>
      <Heading className="record__title">
        <span className="record__type">{typeLabel(record.resourceType)}</span>
        <span>{recordLabel(record)}</span>
      </Heading>
      {facts.length > 0 ? (
        <dl className="record__facts">
          {facts.map((f, i) => (
            <div key={`${f.label}-${i}`} className="record__fact">
              <dt>{t.has(`fields.${f.label}`) ? t(`fields.${f.label}`) : f.label}</dt>
              <dd>
                {f.kind === 'date' ? (
                  <time dateTime={f.value}>{when(f.value)}</time>
                ) : f.kind === 'period' ? (
                  <>
                    <time dateTime={f.value}>{when(f.value)}</time> – <time dateTime={f.end}>{when(f.end)}</time>
                  </>
                ) : (
                  f.value
                )}
              </dd>
            </div>
          ))}
        </dl>
      ) : null}
      {marks.length > 0 ? (
        <p className="record__marks">
          {marks.map((m) => (
            <span key={m} className="tag tag--muted" title={t('securityMark')}>
              {t.has(`marks.${m}`) ? t(`marks.${m}`) : m}
            </span>
          ))}
        </p>
      ) : null}
      <details className="record__raw">
        <summary>{t('rawJson')}</summary>
        <pre className="record__json" tabIndex={0} aria-label={t('rawJsonOf', { type: record.resourceType })}>
          {JSON.stringify(record, null, 2)}
        </pre>
      </details>
    </article>
  );
}
