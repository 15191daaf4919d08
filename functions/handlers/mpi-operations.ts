import type { Container } from '../composition/container';
import { MpiReview } from '../core/patients/mpi-review';
import type { OperationContext, OperationMap } from '../http/operation';

/** The MPI review service over the container's adapters (cheap: no state of its own). */
export function mpiReviewOf(c: Container): MpiReview {
  return new MpiReview(c.documents, c.objects, c.keys, c.patientIndex, c.clock, c.ids);
}

/**
 * Master patient index review (R-MPI-2, R-MPI-3), served by the ingestion handler. Audit notes
 * carry pseudonymous patient ids, case and merge ids only; never identities.
 */
export const mpiOperations: OperationMap = {
  async listMpiReviews({ container, query, audit }: OperationContext<Record<string, string>, { status: 'open' | 'merged' | 'dismissed' | 'all' }>) {
    const cases = await mpiReviewOf(container).cases(query.status);
    audit.parameters.status = query.status;
    audit.count = cases.length;
    return { cases };
  },
  async dismissMpiReview({ container, actor, params, audit }) {
    audit.resources.push({ type: 'MpiReview', id: params.reviewId });
    const c = await mpiReviewOf(container).dismiss(actor.id, params.reviewId);
    audit.resources.push({ type: 'Patient', id: c.patient.patientId }, { type: 'Patient', id: c.candidate.patientId });
    return c;
  },
  async listPatientMerges({ container, audit }) {
    const merges = await mpiReviewOf(container).merges();
    audit.count = merges.length;
    return { merges };
  },
  async mergePatients({ container, actor, body, audit }: OperationContext<Record<string, string>, unknown, { reviewId: string; survivorPatientId: string }>) {
    audit.resources.push({ type: 'MpiReview', id: body.reviewId }, { type: 'Patient', id: body.survivorPatientId });
    const m = await mpiReviewOf(container).merge(actor.id, body.reviewId, body.survivorPatientId);
    audit.resources.push({ type: 'Patient', id: m.mergedId }, { type: 'PatientMerge', id: m.mergeId });
    audit.parameters.records = m.counts.records;
    audit.parameters.files = m.counts.files;
    return m;
  },
  async unmergePatients({ container, actor, params, audit }) {
    audit.resources.push({ type: 'PatientMerge', id: params.mergeId });
    const m = await mpiReviewOf(container).unmerge(actor.id, params.mergeId);
    audit.resources.push({ type: 'Patient', id: m.survivorId }, { type: 'Patient', id: m.mergedId });
    return m;
  },
};
