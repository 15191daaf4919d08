'use client';

import { AuditConsole } from '../../components/audit/audit-console';
import { RequireSignIn } from '../../components/require-sign-in';

/** `/audit/`: audit console for auditors and security admins (R-AUD-2, R-AUD-4, R-AUD-5). */
export default function AuditPage() {
  return (
    <RequireSignIn>
      <AuditConsole />
    </RequireSignIn>
  );
}
