'use client';

import { UnderConstruction } from '../../components/under-construction';

/** `/access-requests/`: placeholder until this area is built (no sample data on purpose). */
export default function AccessRequestsPage() {
  return <UnderConstruction area="accessRequests" />;
}
