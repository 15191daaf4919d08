'use client';

import { UnderConstruction } from '../../components/under-construction';

/** `/review-queue/`: placeholder until this area is built (no sample data on purpose). */
export default function ReviewQueuePage() {
  return <UnderConstruction area="reviewQueue" />;
}
