import { makeApiHandler } from '../http/make-api-handler';
import type { OperationMap } from '../http/operation';
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
};

export const handler = makeApiHandler('audit', operations, lambdaContainer, lambdaObservability('audit'));
