'use client';

import { useTranslations } from 'next-intl';
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { hasAnyRole } from '../../lib/access';
import { AUDIT_ROLES } from '../../lib/audit';
import { ProfilePending } from '../access/access-parts';
import { ErrorPanel } from '../error-panel';
import { usePortal, type ShownError } from '../portal-provider';
import { AuditAlerts } from './audit-alerts';
import { AuditReports } from './audit-reports';
import { NotAuthorized, reportError } from './audit-parts';
import { AuditSearch } from './audit-search';
import { AuditVerification } from './audit-verification';

const TABS = ['search', 'verification', 'alerts', 'reports'] as const;
type TabId = (typeof TABS)[number];

/**
 * `/audit/`: the audit console for auditors and security admins — event search by user or data
 * item (R-AUD-4), chain verification (R-AUD-2), security alerts (R-AUD-5) and quarterly reports
 * (R-AUD-6). Anyone the API
 * refuses sees "not authorized" and no data.
 */
export function AuditConsole() {
  const { me } = usePortal();
  if (!me) return <ProfilePending />;
  return <AuditConsoleBody roles={me.roles} />;
}

function AuditConsoleBody({ roles }: { roles: string[] }) {
  const t = useTranslations('audit');
  const { api } = usePortal();
  const allowedByRole = hasAnyRole(roles, AUDIT_ROLES);
  // Hiding the console is a convenience; the API decides. Users without the roles get one cheap
  // probe so the message they see is the API's own refusal.
  const [state, setState] = useState<'checking' | 'allowed'>(allowedByRole ? 'allowed' : 'checking');
  const [forbidden, setForbidden] = useState<ShownError | undefined>();
  const [probeError, setProbeError] = useState<ShownError | undefined>();
  const [probeAttempt, setProbeAttempt] = useState(0);
  const [tab, setTab] = useState<TabId>('search');
  const [visited, setVisited] = useState<ReadonlySet<TabId>>(new Set(['search']));
  const tabRefs = useRef<Record<string, HTMLButtonElement | null>>({});

  useEffect(() => {
    if (allowedByRole) return;
    let cancelled = false;
    setProbeError(undefined);
    api
      .auditAlerts(1)
      .then(() => {
        if (!cancelled) setState('allowed');
      })
      .catch((err: unknown) => {
        if (!cancelled) reportError(err, setForbidden, setProbeError);
      });
    return () => {
      cancelled = true;
    };
  }, [api, allowedByRole, probeAttempt]);

  function select(next: TabId) {
    setTab(next);
    setVisited((v) => (v.has(next) ? v : new Set([...v, next])));
  }

  // Arrow keys move between tabs (WAI-ARIA tabs pattern, automatic activation).
  function onTabKey(e: KeyboardEvent<HTMLButtonElement>) {
    const i = TABS.indexOf(tab);
    const next = e.key === 'ArrowRight' ? TABS[(i + 1) % TABS.length] : e.key === 'ArrowLeft' ? TABS[(i + TABS.length - 1) % TABS.length] : e.key === 'Home' ? TABS[0] : e.key === 'End' ? TABS[TABS.length - 1] : undefined;
    if (!next) return;
    e.preventDefault();
    select(next);
    tabRefs.current[next]?.focus();
  }

  const head = (
    <div className="page-head">
      <div>
        <h1>{t('pageTitle')}</h1>
        <p className="muted">{t('intro')}</p>
      </div>
    </div>
  );

  if (forbidden) {
    return (
      <div className="stack">
        {head}
        <NotAuthorized error={forbidden} />
      </div>
    );
  }
  if (state === 'checking') {
    return (
      <div className="stack">
        {head}
        {probeError ? (
          <ErrorPanel error={probeError} onRetry={() => setProbeAttempt((n) => n + 1)} />
        ) : (
          <p role="status" className="muted">
            {t('checkingAccess')}
          </p>
        )}
      </div>
    );
  }

  return (
    <div className="stack" data-testid="audit-console">
      {head}
      <div className="tabs" role="tablist" aria-label={t('tabsLabel')}>
        {TABS.map((id) => (
          <button
            key={id}
            ref={(el) => {
              tabRefs.current[id] = el;
            }}
            type="button"
            role="tab"
            id={`audit-tab-${id}`}
            aria-selected={tab === id}
            aria-controls={`audit-panel-${id}`}
            tabIndex={tab === id ? 0 : -1}
            className="tabs__tab"
            onClick={() => select(id)}
            onKeyDown={onTabKey}
            data-testid={`audit-tab-${id}`}
          >
            {t(`tabs.${id}`)}
          </button>
        ))}
      </div>
      {TABS.map((id) => (
        <div key={id} role="tabpanel" id={`audit-panel-${id}`} aria-labelledby={`audit-tab-${id}`} hidden={tab !== id} tabIndex={0} className="tabs__panel">
          {/* Panels mount on first visit and then stay mounted, so a search survives a look at the alerts. */}
          {visited.has(id) ? (
            id === 'search' ? (
              <AuditSearch onForbidden={setForbidden} />
            ) : id === 'verification' ? (
              <AuditVerification onForbidden={setForbidden} />
            ) : id === 'alerts' ? (
              <AuditAlerts onForbidden={setForbidden} />
            ) : (
              <AuditReports onForbidden={setForbidden} />
            )
          ) : null}
        </div>
      ))}
    </div>
  );
}
