'use client';

import { AccessRequestsView } from '../../components/access/request-lists';
import { RequireSignIn } from '../../components/require-sign-in';

/** `/access-requests/`: my requests (researchers) and all requests (governance roles). */
export default function AccessRequestsPage() {
  return (
    <RequireSignIn>
      <AccessRequestsView />
    </RequireSignIn>
  );
}
