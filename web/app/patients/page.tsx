'use client';

import { RequireSignIn } from '../../components/require-sign-in';
import { PatientsView } from '../../components/research/patients-view';

/** `/patients/`: researchers search the de-identified patients their grants release (R-DSR-2, R-GOV-1). */
export default function PatientsPage() {
  return (
    <RequireSignIn>
      <PatientsView />
    </RequireSignIn>
  );
}
