import { z } from 'zod';
import type { RouteDefinition } from '../route-definition';

const MaskedSourceSchema = z.object({
  institution: z.string(),
  maskedName: z.string().describe('First character of the name only'),
  birthYear: z.number().int().optional(),
  sex: z.enum(['female', 'male', 'other', 'unknown']),
  identifierKinds: z.array(z.enum(['residentId', 'mrn', 'phone', 'address', 'insuranceNumber'])).describe('Which identifiers the source supplied; never their values'),
});

const ReviewPatientSchema = z.object({
  patientId: z.string(),
  sources: z.array(MaskedSourceSchema),
  datasets: z.array(z.string()),
  records: z.number().int(),
  timelineEvents: z.number().int(),
  files: z.number().int(),
  mergedInto: z.string().optional(),
});

export const MpiReviewCaseSchema = z
  .object({
    reviewId: z.string(),
    reason: z.string(),
    openedAt: z.string(),
    status: z.enum(['open', 'merged', 'dismissed']),
    patient: ReviewPatientSchema,
    candidate: ReviewPatientSchema,
  })
  .meta({ id: 'MpiReviewCase' });

export const PatientMergeSchema = z
  .object({
    mergeId: z.string(),
    survivorId: z.string(),
    mergedId: z.string(),
    reviewId: z.string().optional(),
    status: z.enum(['merging', 'merged', 'unmerging', 'unmerged']),
    mergedAt: z.string(),
    mergedBy: z.string(),
    unmergedAt: z.string().optional(),
    unmergedBy: z.string().optional(),
    counts: z.object({ records: z.number().int(), timelineEvents: z.number().int(), files: z.number().int(), datasets: z.number().int(), sources: z.number().int(), otherItems: z.number().int(), conflicts: z.number().int() }),
  })
  .meta({ id: 'PatientMerge' });

const ReviewParams = z.object({ reviewId: z.string().regex(/^[A-Za-z0-9_-]{8,200}$/) });
const MergeParams = z.object({ mergeId: z.string().regex(/^mrg-[a-z0-9_]{4,40}$/) });

export const CreateMergeSchema = z
  .object({
    reviewId: z.string().regex(/^[A-Za-z0-9_-]{8,200}$/),
    survivorPatientId: z.string().regex(/^PT-[A-Z0-9_]{4,40}$/).describe('Which of the two patients of the case keeps its id'),
  })
  .meta({ id: 'CreatePatientMerge' });

/** R-MPI-2/R-MPI-3: operator review of probable duplicates in the master patient index (data managers). */
export const mpiRoutes: RouteDefinition[] = [
  {
    operationId: 'listMpiReviews',
    method: 'GET',
    path: '/v1/mpi/reviews',
    module: 'ingestion',
    auth: 'user',
    action: 'ReviewPatientMatches',
    summary: 'Probable-duplicate cases of the master patient index, masked for comparison',
    description: 'Each side shows a masked name (first character), birth year, sex, institution and which identifier kinds exist; never the resident ID or other identifier values.',
    tags: ['mpi'],
    auditCategory: 'data-access',
    request: { query: z.object({ status: z.enum(['open', 'merged', 'dismissed', 'all']).default('open') }) },
    response: z.object({ cases: z.array(MpiReviewCaseSchema) }),
  },
  {
    operationId: 'dismissMpiReview',
    method: 'POST',
    path: '/v1/mpi/reviews/{reviewId}/dismissal',
    module: 'ingestion',
    auth: 'user',
    action: 'MergePatients',
    summary: 'Close a case as "not the same person"',
    tags: ['mpi'],
    auditCategory: 'data-change',
    request: { params: ReviewParams },
    response: MpiReviewCaseSchema,
  },
  {
    operationId: 'listPatientMerges',
    method: 'GET',
    path: '/v1/mpi/merges',
    module: 'ingestion',
    auth: 'user',
    action: 'ReviewPatientMatches',
    summary: 'Patient merges, newest first',
    tags: ['mpi'],
    auditCategory: 'data-access',
    response: z.object({ merges: z.array(PatientMergeSchema) }),
  },
  {
    operationId: 'mergePatients',
    method: 'POST',
    path: '/v1/mpi/merges',
    module: 'ingestion',
    auth: 'user',
    action: 'MergePatients',
    summary: 'Merge the two patients of a review case into the chosen survivor (reversible)',
    description: 'Records, timeline, files, dataset membership, vault entries and identifier keys move to the survivor; the before-image is kept (encrypted) so an unmerge restores the previous state. Repeating the call finishes an interrupted merge.',
    tags: ['mpi'],
    auditCategory: 'data-change',
    request: { body: CreateMergeSchema, maxBodyBytes: 1024 },
    response: PatientMergeSchema,
    successStatus: 201,
  },
  {
    operationId: 'unmergePatients',
    method: 'POST',
    path: '/v1/mpi/merges/{mergeId}/unmerge',
    module: 'ingestion',
    auth: 'user',
    action: 'MergePatients',
    summary: 'Undo a merge: both patients return to their state before it',
    tags: ['mpi'],
    auditCategory: 'data-change',
    request: { params: MergeParams },
    response: PatientMergeSchema,
  },
];
