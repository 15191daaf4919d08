'use client';

import { RequireSignIn } from '../../components/require-sign-in';
import { ReidConsole } from '../../components/reidentification/reid-console';

/** `/reidentification/`: controlled re-identification requests, approvals and the one-time result (R-DEID-3). */
export default function ReidentificationPage() {
  return (
    <RequireSignIn>
      <ReidConsole />
    </RequireSignIn>
  );
}
