import type { AddEventInput, AnnotateEventInput, EditEventInput } from '../core/patients/timeline-curation';
import type { OperationContext, OperationMap } from '../http/operation';

type Ctx<B = unknown> = OperationContext<{ patientId: string; eventId?: string }, Record<string, unknown>, B>;

/**
 * Timeline curation by data managers (R-MPI-4, R-ANA-2), served by the ingestion module. Audit
 * notes carry ids and the names of changed fields, never titles or annotation text.
 */
export const timelineOperations: OperationMap = {
  async listCuratablePatients({ container, actor, query, audit }: OperationContext<Record<string, string>, { q?: string; limit: number }>) {
    // Ids and diagnosis words, never identifiers: safe in the audit trail.
    if (query.q) audit.parameters.q = query.q.slice(0, 100);
    const datasets = (await container.catalog.listDatasets()).map((d) => d.datasetId);
    const all = await container.timeline.patients(actor, datasets, query.q);
    audit.count = Math.min(all.length, query.limit);
    return { items: all.slice(0, query.limit), total: all.length };
  },
  async getPatientTimeline({ container, actor, params, audit }: Ctx) {
    audit.resources.push({ type: 'Patient', id: params.patientId });
    const out = await container.timeline.timeline(actor, params.patientId);
    audit.count = out.events.length;
    return out;
  },
  async addTimelineEvent({ container, actor, params, body, audit }: Ctx<AddEventInput>) {
    const event = await container.timeline.add(actor, params.patientId, body);
    audit.resources.push({ type: 'Patient', id: params.patientId }, { type: 'TimelineEvent', id: event.eventId });
    audit.parameters.type = body.type;
    audit.parameters.version = event.version;
    audit.parameters.linkedRecords = event.recordRefs.length;
    audit.parameters.linkedFiles = event.fileIds.length;
    return event;
  },
  async editTimelineEvent({ container, actor, params, body, audit }: Ctx<EditEventInput>) {
    audit.resources.push({ type: 'Patient', id: params.patientId }, { type: 'TimelineEvent', id: params.eventId! });
    audit.parameters.expectedVersion = body.expectedVersion;
    audit.parameters.fields = Object.keys(body).filter((k) => k !== 'expectedVersion').sort().join(',');
    const event = await container.timeline.edit(actor, params.patientId, params.eventId!, body);
    audit.parameters.version = event.version;
    return event;
  },
  async annotateTimelineEvent({ container, actor, params, body, audit }: Ctx<AnnotateEventInput>) {
    audit.resources.push({ type: 'Patient', id: params.patientId }, { type: 'TimelineEvent', id: params.eventId! });
    const event = await container.timeline.annotate(actor, params.patientId, params.eventId!, body);
    audit.parameters.version = event.version;
    audit.parameters.annotationId = event.annotations.at(-1)!.annotationId;
    return event;
  },
  async listTimelineEventVersions({ container, actor, params, audit }: Ctx) {
    audit.resources.push({ type: 'Patient', id: params.patientId }, { type: 'TimelineEvent', id: params.eventId! });
    const items = await container.timeline.versions(actor, params.patientId, params.eventId!);
    audit.count = items.length;
    return { items };
  },
};
