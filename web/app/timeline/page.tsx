'use client';

import { Suspense } from 'react';
import { RequireSignIn } from '../../components/require-sign-in';
import { TimelineCurationView } from '../../components/timeline/timeline-curation-view';

/** `/timeline/?patient=PT-…`: timeline curation for data managers (query string: static export). */
export default function TimelineCurationPage() {
  return (
    <RequireSignIn>
      <Suspense>
        <TimelineCurationView />
      </Suspense>
    </RequireSignIn>
  );
}
