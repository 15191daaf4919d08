'use client';

import { useSearchParams } from 'next/navigation';
import { Suspense } from 'react';
import { RequireSignIn } from '../../../components/require-sign-in';
import { PatientView } from '../../../components/research/patient-view';

function Detail() {
  const params = useSearchParams();
  const grant = params.get('grant') ?? '';
  const token = params.get('token') ?? '';
  // Keyed so moving between patients starts from a clean state.
  return <PatientView key={`${grant}/${token}`} grantId={grant} token={token} />;
}

/** `/patients/view/?grant=…&token=…`: one released patient's timeline and records (query string: static export). */
export default function PatientDetailPage() {
  return (
    <RequireSignIn>
      <Suspense>
        <Detail />
      </Suspense>
    </RequireSignIn>
  );
}
