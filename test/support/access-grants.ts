import { apiAs, eventually, idTokenFor } from './api-client';
import type { PlatformInfo } from './platform-setup';

/** An access request body as the portal's form sends it. */
export interface AccessRequestBody {
  title: string;
  purposeCode: string;
  purpose: string;
  academicStatement: string;
  scope: { datasetIds: string[]; modalities: string[]; fields: string[] };
  requestedDurationDays: number;
  agreementVersion: string;
  agreementAccepted: boolean;
}

/** The review steps of a level-3 dataset's request (ethics first, then the approval chain), with who decides each. */
const LEVEL_3_STEPS = [
  ['ethics-reviewer', 'ethics'],
  ['approver', 'approver'],
  ['data-owner', 'data-owner'],
] as const;

/**
 * Submits `request` as the demo researcher and approves it through every review step of the real
 * workflow (each reviewer waits for the request to reach their queue), then returns the grant id.
 */
export async function approvedGrant(platform: PlatformInfo, request: AccessRequestBody, applicant = 'researcher'): Promise<{ grantId: string; requestId: string }> {
  const researcher = apiAs(platform, await idTokenFor(platform, applicant));
  const submitted = await researcher.post('/v1/access-requests', request);
  if (submitted.status !== 201 && submitted.status !== 200) throw new Error(`access request refused: ${submitted.status} ${submitted.text.slice(0, 300)}`);
  const requestId = submitted.json.requestId as string;
  for (const [user, step] of LEVEL_3_STEPS) {
    const reviewer = apiAs(platform, await idTokenFor(platform, user));
    await eventually(async () => (await reviewer.get('/v1/access-requests?view=queue')).json.items.find((r: { requestId: string }) => r.requestId === requestId));
    const d = await reviewer.post(`/v1/access-requests/${requestId}/decisions`, { step, outcome: 'approved', comment: 'proportionate' });
    if (d.status !== 200) throw new Error(`${step} decision refused: ${d.status} ${d.text.slice(0, 300)}`);
  }
  const done = await eventually(async () => {
    const r = await researcher.get(`/v1/access-requests/${requestId}`);
    return r.json.status === 'approved' ? r.json : undefined;
  }, 30_000);
  return { grantId: done.grantId as string, requestId };
}
