'use client';

import { UnderConstruction } from '../../components/under-construction';

/** `/partners/`: placeholder until this area is built (no sample data on purpose). */
export default function PartnersPage() {
  return <UnderConstruction area="partners" />;
}
