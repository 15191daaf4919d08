import { afterEach, describe, expect, it } from 'vitest';
import { MemoryDocumentStore } from '../../functions/adapters/memory/memory-document-store';
import { ConflictError, NotFoundError } from '../../functions/core/errors';
import { FUNCTION_ARN, WorkflowHarness } from './workflow-harness';

const approve = (by: string) => ({ outcome: 'approved', decidedBy: by });
const L2 = ['approver'];
const L3 = ['approver', 'data-owner'];
const L4 = ['approver', 'data-owner', 'security-admin'];

const harnesses: WorkflowHarness[] = [];
function harness(store?: MemoryDocumentStore, clockOffsetMs = 0): WorkflowHarness {
  const h = new WorkflowHarness(store, clockOffsetMs);
  harnesses.push(h);
  return h;
}
afterEach(async () => {
  const done = harnesses.splice(0);
  await Promise.all(done.map((h) => h.engine.stop()));
  expect(done.flatMap((h) => h.internalErrors)).toEqual([]);
});

describe('access-request workflow (real ASL on LocalWorkflowEngine)', () => {
  it('R-GOV-3, R-GOV-4: L2 request — ethics approval, one approver, grant issued', async () => {
    const h = harness();
    const id = await h.start('req-l2', L2);
    const ethics = await h.waiting(id);
    expect(ethics.state).toBe('EthicsReview');
    expect(ethics.payload).toEqual({ task: 'openReviewStep', requestId: 'req-l2', step: 'ethics', stepIndex: -1, taskToken: ethics.taskToken });
    await h.decide(id, approve('ethics-1'));
    const approval = await h.waiting(id);
    expect(approval.payload).toEqual({ task: 'openReviewStep', requestId: 'req-l2', step: 'approver', stepIndex: 0, taskToken: approval.taskToken });
    await h.decide(id, approve('approver-1'));

    const d = await h.engine.describe(id);
    expect(d.status).toBe('SUCCEEDED');
    expect(h.trace()).toEqual(['openReviewStep:ethics', 'openReviewStep:approver', 'issueGrant']);
    expect(h.calls.every((c) => c.functionArn === FUNCTION_ARN)).toBe(true);
    expect(h.calls.at(-1)?.payload).toEqual({ task: 'issueGrant', requestId: 'req-l2' });
    // The execution input survives every step; the grant result is under issued.grant (Payload).
    expect(d.output).toMatchObject({ requestId: 'req-l2', approvalChain: L2, reviewTimeoutSeconds: 3600, issued: { grant: { ok: true } } });
    expect(d.history.map((e) => e.state)).toEqual([
      'EthicsReview', 'EthicsDecision', 'Approvals', 'AwaitApproval', 'ApprovalDecision', 'ApprovalGiven', 'IssueGrant',
    ]);
  });

  it('R-GOV-4: L4 request — three approvers in sequence, each only after the previous approved', async () => {
    const h = harness();
    const id = await h.start('req-l4', L4);
    await h.decide(id, approve('ethics-1'));
    for (const [index, role] of L4.entries()) {
      const step = await h.waiting(id);
      expect(step.payload).toMatchObject({ task: 'openReviewStep', step: role, stepIndex: index });
      // Minimal exposure: the next role has not been asked yet.
      expect(h.trace().filter((t) => t.startsWith('openReviewStep:') && t !== 'openReviewStep:ethics')).toEqual(
        L4.slice(0, index + 1).map((r) => `openReviewStep:${r}`),
      );
      await h.decide(id, approve(`${role}-1`));
    }
    expect((await h.engine.describe(id)).status).toBe('SUCCEEDED');
    expect(h.trace()).toEqual([
      'openReviewStep:ethics', 'openReviewStep:approver', 'openReviewStep:data-owner', 'openReviewStep:security-admin', 'issueGrant',
    ]);
  });

  it('R-GOV-3: ethics rejection ends the flow (request closed as rejected, no approver asked)', async () => {
    const h = harness();
    const id = await h.start('req-eth-rej', L3);
    await h.decide(id, { outcome: 'rejected', decidedBy: 'ethics-1', comment: 'scope too broad' });
    const d = await h.engine.describe(id);
    expect(d.status).toBe('SUCCEEDED');
    expect(h.trace()).toEqual(['openReviewStep:ethics', 'closeRequest']);
    expect(h.calls[1]?.payload).toEqual({ task: 'closeRequest', requestId: 'req-eth-rej', outcome: 'rejected' });
    expect(d.history.at(-1)?.state).toBe('Rejected');
  });

  it('R-GOV-8: ethics changes requested → applicant amends → re-review → approved', async () => {
    const h = harness();
    const id = await h.start('req-amend', L2);
    await h.decide(id, { outcome: 'changes-requested', decidedBy: 'ethics-1', comment: 'clarify retention' });
    const amend = await h.waiting(id);
    expect(amend.state).toBe('AwaitEthicsAmendment');
    expect(amend.payload).toEqual({ task: 'awaitApplicant', requestId: 'req-amend', step: 'ethics', stepIndex: -1, taskToken: amend.taskToken });
    await h.decide(id, { amended: true });
    const reReview = await h.waiting(id);
    expect(reReview.state).toBe('EthicsReview');
    expect(reReview.taskToken).not.toBe(amend.taskToken);
    await h.decide(id, approve('ethics-2'));
    await h.decide(id, approve('approver-1'));
    expect((await h.engine.describe(id)).status).toBe('SUCCEEDED');
    expect(h.trace()).toEqual([
      'openReviewStep:ethics', 'awaitApplicant:ethics', 'openReviewStep:ethics', 'openReviewStep:approver', 'issueGrant',
    ]);
  });

  it('R-GOV-4: approver asks for more information → applicant answers → same approver decides again', async () => {
    const h = harness();
    const id = await h.start('req-info', L3);
    await h.decide(id, approve('ethics-1'));
    await h.decide(id, { outcome: 'more-info', decidedBy: 'approver-1', comment: 'which cohort?' });
    const ask = await h.waiting(id);
    expect(ask.state).toBe('AwaitApplicantInfo');
    expect(ask.payload).toEqual({ task: 'awaitApplicant', requestId: 'req-info', step: 'approver', stepIndex: 0, taskToken: ask.taskToken });
    await h.decide(id, { answered: true });
    expect((await h.waiting(id)).payload).toMatchObject({ task: 'openReviewStep', step: 'approver', stepIndex: 0 });
    await h.decide(id, approve('approver-1'));
    await h.decide(id, approve('owner-1'));
    expect((await h.engine.describe(id)).status).toBe('SUCCEEDED');
    expect(h.trace()).toEqual([
      'openReviewStep:ethics', 'openReviewStep:approver', 'awaitApplicant:approver', 'openReviewStep:approver',
      'openReviewStep:data-owner', 'issueGrant',
    ]);
  });

  it('R-GOV-4: an approver rejection closes the request; later approvers are never asked', async () => {
    const h = harness();
    const id = await h.start('req-rej', L4);
    await h.decide(id, approve('ethics-1'));
    await h.decide(id, approve('approver-1'));
    await h.decide(id, { outcome: 'rejected', decidedBy: 'owner-1', comment: 'not covered by consent' });
    const d = await h.engine.describe(id);
    expect(d.status).toBe('SUCCEEDED');
    expect(h.trace()).toEqual(['openReviewStep:ethics', 'openReviewStep:approver', 'openReviewStep:data-owner', 'closeRequest']);
    expect(h.calls.at(-1)?.payload).toEqual({ task: 'closeRequest', requestId: 'req-rej', outcome: 'rejected' });
    expect(d.history.map((e) => e.state)).toContain('CloseRejected');
  });

  it('R-GOV-4: a review that times out is escalated, then decided with a fresh token', async () => {
    const h = harness();
    const id = await h.start('req-timeout', L2, 1);
    const first = await h.waiting(id);
    await new Promise((r) => setTimeout(r, 1100));
    await h.engine.waitForIdle();
    const second = await h.waiting(id);
    expect(second.state).toBe('EthicsReview');
    expect(second.taskToken).not.toBe(first.taskToken);
    expect(h.trace()).toEqual(['openReviewStep:ethics', 'escalateReviewStep:ethics', 'openReviewStep:ethics']);
    expect(h.calls[1]?.payload).toEqual({ task: 'escalateReviewStep', requestId: 'req-timeout', step: 'ethics', stepIndex: -1 });
    // The timed-out token is dead.
    await expect(h.engine.sendTaskSuccess(first.taskToken, approve('late'))).rejects.toBeInstanceOf(ConflictError);
    await h.decide(id, approve('ethics-1'));
    expect((await h.waiting(id)).state).toBe('AwaitApproval');
  });

  it('R-GOV-4: a task that throws ends in MarkFailed and a FAILED execution', async () => {
    const h = harness().on('issueGrant', () => {
      throw new ConflictError('grant already exists');
    });
    const id = await h.start('req-boom', L2);
    await h.decide(id, approve('ethics-1'));
    await h.decide(id, approve('approver-1'));
    const d = await h.engine.describe(id);
    expect(d.status).toBe('FAILED');
    expect(d.error).toBe('AccessWorkflowFailed');
    expect(h.trace()).toEqual(['openReviewStep:ethics', 'openReviewStep:approver', 'issueGrant', 'markFailed']);
    const markFailed = h.calls.at(-1)?.payload as { error: { Error: string; Cause: string } };
    expect(markFailed).toMatchObject({ task: 'markFailed', requestId: 'req-boom', error: { Error: 'CONFLICT' } });
    expect(JSON.parse(markFailed.error.Cause)).toEqual({ errorType: 'CONFLICT', errorMessage: 'grant already exists' });
    expect(d.history.map((e) => e.state).slice(-2)).toEqual(['MarkFailed', 'Failed']);
  });

  it('R-GOV-4: SendTaskFailure raises its error in the execution (caught → MarkFailed)', async () => {
    const h = harness();
    const id = await h.start('req-taskfail', L2);
    const { taskToken } = await h.waiting(id);
    await h.engine.sendTaskFailure(taskToken, 'ReviewerUnavailable', 'board dissolved');
    await h.engine.waitForIdle();
    expect((await h.engine.describe(id)).status).toBe('FAILED');
    expect(h.calls.at(-1)?.payload).toMatchObject({ task: 'markFailed', error: { Error: 'ReviewerUnavailable', Cause: 'board dissolved' } });
  });

  it('R-GOV-4: task tokens are single-use; unknown tokens are not found', async () => {
    const h = harness();
    const id = await h.start('req-replay', L2);
    const { taskToken } = await h.waiting(id);
    await h.engine.sendTaskSuccess(taskToken, approve('ethics-1'));
    await expect(h.engine.sendTaskSuccess(taskToken, { outcome: 'rejected', decidedBy: 'x' })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(h.engine.sendTaskFailure(taskToken, 'E', 'c')).rejects.toBeInstanceOf(ConflictError);
    await expect(h.engine.sendTaskSuccess('no-such-token', {})).rejects.toBeInstanceOf(NotFoundError);
    await h.engine.waitForIdle();
    expect((await h.waiting(id)).state).toBe('AwaitApproval');
  });

  it('R-GOV-4: a callback that arrives before the task function returns is not lost', async () => {
    const h = harness();
    h.on('openReviewStep', async (payload) => {
      // e.g. an auto-approval path that answers inside the notifying function
      if (payload.step === 'approver') await h.engine.sendTaskSuccess(String(payload.taskToken), approve('auto'));
      return { ok: true };
    });
    const id = await h.start('req-fast', L2);
    await h.decide(id, approve('ethics-1'));
    expect((await h.engine.describe(id)).status).toBe('SUCCEEDED');
  });

  it('R-GOV-2: start is idempotent per execution name', async () => {
    const h = harness();
    const input = { requestId: 'req-idem', approvalChain: L2, reviewTimeoutSeconds: 3600 };
    const a = await h.engine.start('access-request', 'req-idem', input);
    const b = await h.engine.start('access-request', 'req-idem', { reviewTimeoutSeconds: 3600, approvalChain: L2, requestId: 'req-idem' });
    expect(b).toBe(a);
    await h.engine.waitForIdle();
    expect(h.trace()).toEqual(['openReviewStep:ethics']);
    await expect(h.engine.start('access-request', 'req-idem', { ...input, approvalChain: L4 })).rejects.toBeInstanceOf(ConflictError);
  });

  it('R-GOV-4: after a restart, resumeAll continues from the waiting step without re-running earlier tasks', async () => {
    const store = new MemoryDocumentStore();
    const first = harness(store);
    const id = await first.start('req-restart', L4);
    await first.decide(id, approve('ethics-1'));
    await first.decide(id, approve('approver-1'));
    const pending = await first.waiting(id);
    expect(pending.payload).toMatchObject({ step: 'data-owner', stepIndex: 1 });
    await first.engine.stop();

    const second = harness(store);
    expect(await second.engine.resumeAll()).toBe(1);
    await second.engine.waitForIdle();
    expect(second.calls).toEqual([]); // replayed from the log, nothing invoked again
    const resumed = await second.waiting(id);
    expect(resumed.state).toBe('AwaitApproval');
    expect(resumed.taskToken).toBe(pending.taskToken);
    await second.decide(id, approve('owner-1'));
    await second.decide(id, approve('security-1'));
    expect((await second.engine.describe(id)).status).toBe('SUCCEEDED');
    expect(second.trace()).toEqual(['openReviewStep:security-admin', 'issueGrant']);
    expect(await second.engine.resumeAll()).toBe(0);
  });

  it('R-GOV-4: a decision sent while the engine was down is applied when it resumes', async () => {
    const store = new MemoryDocumentStore();
    const first = harness(store);
    const id = await first.start('req-offline', L2);
    const { taskToken } = await first.waiting(id);
    await first.engine.stop();

    const second = harness(store);
    const before = await second.engine.describe(id);
    expect(before).toMatchObject({ status: 'RUNNING', waiting: { state: 'EthicsReview', taskToken } });
    await second.engine.sendTaskSuccess(taskToken, approve('ethics-1')); // recorded durably, not yet running
    await expect(second.engine.sendTaskSuccess(taskToken, approve('again'))).rejects.toBeInstanceOf(ConflictError);
    expect(await second.engine.resumeAll()).toBe(1);
    await second.engine.waitForIdle();
    expect((await second.waiting(id)).state).toBe('AwaitApproval');
    expect(second.trace()).toEqual(['openReviewStep:approver']);
  });

  it('R-GOV-4: review deadlines are durable — a restart after the deadline escalates at once', async () => {
    const store = new MemoryDocumentStore();
    const first = harness(store);
    const id = await first.start('req-late', L2, 60);
    const { taskToken } = await first.waiting(id);
    await first.engine.stop();

    const later = harness(store, 61_000); // the process comes back 61 s later
    expect(await later.engine.resumeAll()).toBe(1);
    await later.engine.waitForIdle();
    expect(later.trace()).toEqual(['escalateReviewStep:ethics', 'openReviewStep:ethics']);
    await expect(later.engine.sendTaskSuccess(taskToken, approve('too-late'))).rejects.toBeInstanceOf(ConflictError);
    expect((await later.waiting(id)).taskToken).not.toBe(taskToken);
  });

  it('R-GOV-4: stop() leaves no timers running', async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const h = harness();
    await h.start('req-timers-1', L2, 3600);
    await h.start('req-timers-2', L3, 3600);
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBeGreaterThan(before);
    await h.engine.stop();
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBeLessThanOrEqual(before);
  });
});
