'use client';

import { useSearchParams } from 'next/navigation';
import { Suspense } from 'react';
import { ReviewDetailView } from '../../../components/access/review-detail-view';
import { RequireSignIn } from '../../../components/require-sign-in';

function Detail() {
  const params = useSearchParams();
  const id = params.get('id') ?? '';
  return <ReviewDetailView key={id} requestId={id} />;
}

/** `/review-queue/view/?id=…`: the request under review and the decision form of the open step. */
export default function ReviewDetailPage() {
  return (
    <RequireSignIn>
      <Suspense>
        <Detail />
      </Suspense>
    </RequireSignIn>
  );
}
