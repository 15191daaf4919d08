import { expect } from 'vitest';
import { apiAs, eventually, idTokenFor } from './api-client';
import type { PlatformInfo } from './platform-setup';

export interface GrantForOptions {
  title: string;
  datasetId?: string;
  purposeCode?: string;
  purpose?: string;
  requestedDurationDays?: number;
}

/** The L3 demo cohort's review steps in order, with the demo user deciding each. */
export const L3_STEPS = [
  ['ethics-reviewer', 'ethics'],
  ['approver', 'approver'],
  ['data-owner', 'data-owner'],
] as const;

/** Waits until `username`'s review queue holds `requestId` at `step`, then approves it through the API. */
export async function approveStep(platform: PlatformInfo, username: string, requestId: string, step: string): Promise<void> {
  const reviewer = apiAs(platform, await idTokenFor(platform, username));
  await eventually(async () => {
    const queue = await reviewer.get('/v1/access-requests?view=queue');
    return (queue.json?.items as Array<{ requestId: string; pending?: { step: string } }> | undefined)?.some((r) => r.requestId === requestId && r.pending?.step === step);
  });
  const decided = await reviewer.post(`/v1/access-requests/${requestId}/decisions`, { step, outcome: 'approved' });
  expect(decided.status, decided.text).toBe(200);
}

/**
 * Submits an access request as `researcher` for the L3 demo cohort and has each step approved
 * through the API as soon as it opens (the journeys that need a grant are about something else).
 */
export async function grantFor(platform: PlatformInfo, researcher: string, opts: GrantForOptions): Promise<{ grantId: string; requestId: string }> {
  const api = apiAs(platform, await idTokenFor(platform, researcher));
  const submitted = await api.post('/v1/access-requests', {
    title: opts.title,
    purposeCode: opts.purposeCode ?? 'DUO:0000007',
    purpose: opts.purpose ?? 'Pathological complete response after neoadjuvant RT plus IO.',
    academicStatement: 'Retrospective cohort study with multivariable logistic regression on de-identified data; aggregate results only.',
    scope: { datasetIds: [opts.datasetId ?? 'bc-nrt-io'], modalities: [], fields: [] },
    requestedDurationDays: opts.requestedDurationDays ?? 30,
    agreementVersion: 'DSA-2026.1',
    agreementAccepted: true,
  });
  expect(submitted.status, submitted.text).toBe(201);
  const requestId = submitted.json.requestId as string;
  for (const [username, step] of L3_STEPS) await approveStep(platform, username, requestId, step);
  const grant = await eventually(async () => {
    const list = await api.get('/v1/grants');
    return (list.json?.items as Array<{ grantId: string; requestId: string; status: string }> | undefined)?.find((g) => g.requestId === requestId && g.status === 'active');
  });
  return { grantId: grant.grantId, requestId };
}
