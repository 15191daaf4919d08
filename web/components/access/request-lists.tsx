'use client';

import Link from 'next/link';
import { useTranslations } from 'next-intl';
import { useCallback, useEffect, useState } from 'react';
import type { AccessRequest } from '../../lib/api-client';
import { DECIDING_ROLES, GOVERNANCE_ROLES, hasAnyRole } from '../../lib/access';
import { ErrorPanel } from '../error-panel';
import { toShownError, usePortal, type ShownError } from '../portal-provider';
import { ProfilePending, RequestTable, TimeZoneNote } from './access-parts';

/** Loads one list view of requests with loading / error / retry state. */
function useRequestList(view: 'mine' | 'queue' | 'all') {
  const { api } = usePortal();
  const [items, setItems] = useState<AccessRequest[] | undefined>();
  const [error, setError] = useState<ShownError | undefined>();
  const load = useCallback(() => {
    setError(undefined);
    api
      .accessRequests(view)
      .then(setItems)
      .catch((err: unknown) => setError(toShownError(err)));
  }, [api, view]);
  useEffect(() => load(), [load]);
  return { items, error, load };
}

function ListSection({
  view,
  title,
  empty,
  detailHref,
  showApplicant,
  testId,
}: {
  view: 'mine' | 'queue' | 'all';
  title: string;
  empty: string;
  detailHref(id: string): string;
  showApplicant: boolean;
  testId: string;
}) {
  const t = useTranslations('access.list');
  const { items, error, load } = useRequestList(view);
  const headingId = `${testId}-title`;
  return (
    <section aria-labelledby={headingId}>
      <div className="section-head">
        <h2 id={headingId}>{title}</h2>
        <button type="button" className="button button--secondary button--small" onClick={load}>
          {t('reload')}
        </button>
      </div>
      {error ? (
        <ErrorPanel error={error} onRetry={load} />
      ) : !items ? (
        <p role="status" className="muted">
          {t('loading')}
        </p>
      ) : items.length === 0 ? (
        <p className="muted" data-testid={`${testId}-empty`}>
          {empty}
        </p>
      ) : (
        <>
          <RequestTable items={items} caption={t('caption', { title, count: items.length })} detailHref={detailHref} showApplicant={showApplicant} testId={testId} />
          <TimeZoneNote />
        </>
      )}
    </section>
  );
}

/** `/access-requests/`: the researcher's requests and, for governance roles, every request (R-GOV-2, R-GOV-6). */
export function AccessRequestsView() {
  const t = useTranslations('access');
  const { me } = usePortal();
  const roles = me?.roles ?? [];
  const isResearcher = roles.includes('researcher');
  const governance = hasAnyRole(roles, GOVERNANCE_ROLES);
  const detail = (id: string) => `/access-requests/view/?id=${encodeURIComponent(id)}`;
  if (!me) return <ProfilePending />;
  return (
    <div className="stack">
      <div className="page-head">
        <div>
          <h1>{t('list.pageTitle')}</h1>
          <p className="muted">{t('list.intro')}</p>
        </div>
        {isResearcher ? (
          <Link href="/access-requests/new/" className="button" data-testid="new-request">
            {t('list.newRequest')}
          </Link>
        ) : null}
      </div>
      {isResearcher ? (
        <ListSection view="mine" title={t('list.mine')} empty={t('list.emptyMine')} detailHref={detail} showApplicant={false} testId="my-requests" />
      ) : null}
      {governance ? (
        <ListSection view="all" title={t('list.all')} empty={t('list.emptyAll')} detailHref={detail} showApplicant testId="all-requests" />
      ) : null}
      {!isResearcher && !governance ? <p className="muted">{t('list.noRole')}</p> : null}
    </div>
  );
}

/** `/review-queue/`: requests waiting for a decision by one of the caller's roles (R-GOV-3, R-GOV-4). */
export function ReviewQueueView() {
  const t = useTranslations('access');
  const { me } = usePortal();
  const roles = me?.roles ?? [];
  const decides = hasAnyRole(roles, DECIDING_ROLES);
  if (!me) return <ProfilePending />;
  return (
    <div className="stack">
      <div className="page-head">
        <div>
          <h1>{t('review.pageTitle')}</h1>
          <p className="muted">{t('review.intro')}</p>
        </div>
      </div>
      {decides ? (
        <ListSection
          view="queue"
          title={t('review.queueTitle')}
          empty={t('review.empty')}
          detailHref={(id) => `/review-queue/view/?id=${encodeURIComponent(id)}`}
          showApplicant
          testId="review-queue"
        />
      ) : null}
      {roles.includes('reviewer') ? (
        <section className="card" aria-labelledby="records-review-title">
          <h2 id="records-review-title">{t('review.recordsTitle')}</h2>
          <p>{t('review.recordsBuilding')}</p>
        </section>
      ) : null}
    </div>
  );
}
