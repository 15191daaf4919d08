'use client';

import { UnderConstruction } from '../../components/under-construction';

/** `/audit/`: placeholder until this area is built (no sample data on purpose). */
export default function AuditPage() {
  return <UnderConstruction area="audit" />;
}
