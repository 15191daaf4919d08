'use client';

import { PartnersConsole } from '../../components/partners/partners-console';
import { RequireSignIn } from '../../components/require-sign-in';

/** `/partners/`: partner administration for security admins (R-INT-1, R-SEC-7). */
export default function PartnersPage() {
  return (
    <RequireSignIn>
      <PartnersConsole />
    </RequireSignIn>
  );
}
