'use client';

import { PolicyConsole } from '../../components/policies/policy-console';
import { RequireSignIn } from '../../components/require-sign-in';

/** `/policies/`: the Cedar policy set, its versions, runtime changes and rollback (R-GOV-7). */
export default function PoliciesPage() {
  return (
    <RequireSignIn>
      <PolicyConsole />
    </RequireSignIn>
  );
}
