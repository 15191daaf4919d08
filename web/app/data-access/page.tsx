'use client';

import { DataAccessLog } from '../../components/audit/data-access-log';
import { RequireSignIn } from '../../components/require-sign-in';

/** `/data-access/`: "who accessed my data" for data providers and data owners (R-AUD-4, R-GOV-6). */
export default function DataAccessPage() {
  return (
    <RequireSignIn>
      <DataAccessLog />
    </RequireSignIn>
  );
}
