'use client';

import { UnderConstruction } from '../../components/under-construction';

/** `/ingestion/`: placeholder until this area is built (no sample data on purpose). */
export default function IngestionPage() {
  return <UnderConstruction area="ingestion" />;
}
