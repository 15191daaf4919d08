import { Logger } from '@aws-lambda-powertools/logger';
import type { Container } from '../composition/container';
import { makeApiHandler } from '../http/make-api-handler';
import { auditServices } from '../composition/audit-services';
import { ForbiddenError } from '../core/errors';
import { HttpResult, type OperationMap } from '../http/operation';
import { lambdaContainer, lambdaObservability } from './lambda-runtime';

interface AuditQueryParams {
  actorId?: string;
  resourceType?: string;
  resourceId?: string;
  from?: string;
  to?: string;
  limit: number;
  cursor?: string;
}

/** Audit queries (R-AUD-4). The query itself is audited like any other call. */
export const operations: OperationMap = {
  async queryAuditEvents({ container, query, audit }) {
    const q = query as AuditQueryParams;
    for (const k of ['actorId', 'resourceType', 'resourceId', 'from', 'to'] as const) if (q[k]) audit.parameters[k] = q[k]!;
    const page = await container.audit.query({
      actorId: q.actorId,
      resource: q.resourceType && q.resourceId ? { type: q.resourceType, id: q.resourceId } : undefined,
      from: q.from,
      to: q.to,
      limit: q.limit,
      cursor: q.cursor,
    });
    audit.count = page.items.length;
    return page;
  },

  /** R-AUD-2: the signed digest chain, checked with the public key; the first broken link. */
  async verifyAuditChain({ container, query, audit }) {
    const q = query as { from?: string; to?: string };
    for (const k of ['from', 'to'] as const) if (q[k]) audit.parameters[k] = q[k]!;
    const result = await container.auditChain.verify({ from: q.from, to: q.to });
    audit.count = result.eventsChecked;
    audit.parameters.ok = result.ok;
    if (result.firstBroken) {
      audit.parameters.brokenReason = result.firstBroken.reason;
      audit.resources.push({ type: 'AuditDigest', id: result.firstBroken.digestId });
    }
    return result;
  },

  /** R-AUD-5: alerts raised from the trail, newest first. */
  async listAuditAlerts({ container, query, audit }) {
    const q = query as { from?: string; to?: string; limit: number; cursor?: string };
    for (const k of ['from', 'to'] as const) if (q[k]) audit.parameters[k] = q[k]!;
    const page = await container.audit.listAlerts(q);
    audit.count = page.items.length;
    return page;
  },

  /** R-AUD-4, R-GOV-6: who accessed the caller's institution's data (never another's). */
  async listInstitutionDataAccess({ container, actor, query, audit }) {
    const q = query as { from?: string; to?: string; limit: number; cursor?: string };
    // The institution comes from the verified token only, never from the request.
    if (!actor.institution) throw new ForbiddenError('no institution on the signed-in account', { reason: 'NO_INSTITUTION' });
    audit.parameters.institution = actor.institution;
    for (const k of ['from', 'to'] as const) if (q[k]) audit.parameters[k] = q[k]!;
    const page = await auditServices(container).institutionAccess.query({ institution: actor.institution, ...q });
    audit.count = page.items.length;
    return page;
  },

  /** R-AUD-6: compiles, renders (PDF) and archives the report of a quarter. */
  async createAuditReport({ container, actor, body, audit }) {
    const { period } = body as { period: string };
    audit.parameters.period = period;
    const { record } = await auditServices(container).reports.generate(period, actor);
    audit.resources.push({ type: 'AuditReport', id: record.reportId });
    audit.parameters.sha256 = record.sha256;
    audit.count = record.totals.events;
    return record;
  },

  async listAuditReports({ container, query, audit }) {
    const page = await auditServices(container).reports.list(query as { limit: number; cursor?: string });
    audit.count = page.items.length;
    return page;
  },

  /** The archived PDF as an attachment; audited as an export (the R-AUD-5 export rule fires). */
  async downloadAuditReport({ container, params, audit }) {
    const reportId = (params as { reportId: string }).reportId;
    audit.resources.push({ type: 'AuditReport', id: reportId });
    const { record, pdf } = await auditServices(container).reports.download(reportId);
    audit.parameters.sha256 = record.sha256;
    audit.parameters.bytes = record.bytes;
    return new HttpResult(200, pdf, {
      'content-disposition': `attachment; filename="mdrp-audit-report-${record.period}-${record.reportId}.pdf"`,
      'x-content-sha256': record.sha256,
    });
  },
};

/** The container's audit chain (sealer + verifier), wired by the composition root. */

const sealLogger = new Logger({ serviceName: 'audit-sealer' });

/**
 * Seals the audit trail (EventBridge rule every 5 minutes in AWS; an interval locally). A run
 * continues from the newest digest, so missed runs are caught up; racing runs are harmless.
 */
export async function runAuditSealing(container: Container): Promise<{ digests: number; sealedThrough?: string }> {
  const r = await container.auditChain.seal();
  return { digests: r.digests.length, ...(r.sealedThrough ? { sealedThrough: r.sealedThrough } : {}) };
}

/** EventBridge scheduled-rule target of the sealer. */
export const sealHandler = async (): Promise<{ digests: number; sealedThrough?: string }> => {
  const r = await runAuditSealing(await lambdaContainer());
  sealLogger.info('audit sealed', r);
  return r;
};

export const handler = makeApiHandler('audit', operations, lambdaContainer, lambdaObservability('audit'));
