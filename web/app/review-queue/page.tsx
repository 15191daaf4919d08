'use client';

import { ReviewQueueView } from '../../components/access/request-lists';
import { RequireSignIn } from '../../components/require-sign-in';

/** `/review-queue/`: access requests waiting for the caller's decision (R-GOV-3, R-GOV-4). */
export default function ReviewQueuePage() {
  return (
    <RequireSignIn>
      <ReviewQueueView />
    </RequireSignIn>
  );
}
