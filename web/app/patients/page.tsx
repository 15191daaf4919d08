'use client';

import { UnderConstruction } from '../../components/under-construction';

/** `/patients/`: placeholder until this area is built (no sample data on purpose). */
export default function PatientsPage() {
  return <UnderConstruction area="patients" />;
}
