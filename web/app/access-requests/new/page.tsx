'use client';

import { useSearchParams } from 'next/navigation';
import { useTranslations } from 'next-intl';
import { Suspense } from 'react';
import { RequestForm } from '../../../components/access/request-form';
import { RequireSignIn } from '../../../components/require-sign-in';

function NewRequest() {
  const t = useTranslations('access.form');
  const params = useSearchParams();
  // `?dataset=…` (repeatable) comes from the catalogue's "apply for access" links (R-GOV-1).
  const preselect = params.getAll('dataset').filter((d) => d !== '');
  return (
    <div className="stack">
      <h1>{t('pageTitle')}</h1>
      <section className="card">
        <RequestForm preselect={preselect} />
      </section>
    </div>
  );
}

/** `/access-requests/new/?dataset=…`: the new access request form (R-GOV-2). */
export default function NewAccessRequestPage() {
  return (
    <RequireSignIn>
      <Suspense>
        <NewRequest />
      </Suspense>
    </RequireSignIn>
  );
}
