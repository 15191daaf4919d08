'use client';

import { GrantsView } from '../../components/access/grants-view';
import { RequireSignIn } from '../../components/require-sign-in';

/** `/grants/`: time-limited data access grants (R-GOV-5, R-GOV-6). */
export default function GrantsPage() {
  return (
    <RequireSignIn>
      <GrantsView />
    </RequireSignIn>
  );
}
