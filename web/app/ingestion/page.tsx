'use client';

import { useTranslations } from 'next-intl';
import { MpiReviewView } from '../../components/ingestion/mpi-review-view';
import { UploadView } from '../../components/ingestion/upload-view';
import { usePortal } from '../../components/portal-provider';
import { RequireSignIn } from '../../components/require-sign-in';

/** `/ingestion/`: uploads with their job reports (R-ING-4/5) and, for data managers, duplicate review (R-MPI-2). */
export default function IngestionPage() {
  return (
    <RequireSignIn>
      <IngestionContent />
    </RequireSignIn>
  );
}

function IngestionContent() {
  const t = useTranslations('ingestion');
  const { me } = usePortal();
  const roles = me?.roles ?? [];
  return (
    <div className="stack">
      <div className="page-head">
        <div>
          <h1>{t('pageTitle')}</h1>
          <p className="muted">{t('intro')}</p>
        </div>
      </div>
      {roles.includes('data-manager') || roles.includes('data-provider') ? <UploadView /> : <p className="muted">{t('notAllowed')}</p>}
      {roles.includes('data-manager') ? <MpiReviewView /> : null}
    </div>
  );
}
