'use client';

import { useSearchParams } from 'next/navigation';
import { Suspense } from 'react';
import { RequestDetailView } from '../../../components/access/request-detail-view';
import { RequireSignIn } from '../../../components/require-sign-in';

function Detail() {
  const params = useSearchParams();
  const id = params.get('id') ?? '';
  // Keyed by id so moving between requests starts from a clean state.
  return <RequestDetailView key={id} requestId={id} justSubmitted={params.get('submitted') === '1'} />;
}

/** `/access-requests/view/?id=…`: one request, its approval chain and history (query string: static export). */
export default function AccessRequestDetailPage() {
  return (
    <RequireSignIn>
      <Suspense>
        <Detail />
      </Suspense>
    </RequireSignIn>
  );
}
