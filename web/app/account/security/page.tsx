'use client';

import { SecurityView } from '../../../components/account/security-view';
import { RequireSignIn } from '../../../components/require-sign-in';

/** `/account/security/`: the user's authenticator app (TOTP second factor, R-SEC-6). */
export default function SecurityPage() {
  return (
    <RequireSignIn>
      <SecurityView />
    </RequireSignIn>
  );
}
