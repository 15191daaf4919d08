import { describe, expect, it } from 'vitest';
import { MemoryDocumentStore } from '../../../functions/adapters/memory/memory-document-store';
import { LocalScheduler } from '../../../functions/adapters/local/local-scheduler';
import type { ScheduledJob } from '../../../functions/core/ports/scheduler';

const T0 = Date.UTC(2030, 0, 1);
const job = (name: string, runAt: number, type: ScheduledJob['type'] = 'grant-expiry'): ScheduledJob => ({ name, type, runAt, payload: { grantId: name } });

function setup(store = new MemoryDocumentStore(), fail: (job: ScheduledJob) => boolean = () => false, maxAttempts = 3) {
  const ran: string[] = [];
  const parked: string[] = [];
  const scheduler = new LocalScheduler({
    store,
    clock: { now: () => T0 },
    maxAttempts,
    runJob: async (j) => {
      ran.push(j.name);
      if (fail(j)) throw new Error('target down');
    },
    onError: (_e, j) => {
      if (j) parked.push(j.name);
    },
  });
  return { scheduler, ran, parked, store };
}

describe('LocalScheduler (document-store poller, D4)', () => {
  it('R-GOV-5: runs due jobs once, in time order, and leaves future jobs', async () => {
    const { scheduler, ran } = setup();
    await scheduler.schedule(job('later', T0 + 60_000));
    await scheduler.schedule(job('b', T0 - 1_000));
    await scheduler.schedule(job('a', T0 - 5_000, 'grant-reminder'));
    expect(await scheduler.runDue(T0)).toBe(2);
    expect(ran).toEqual(['a', 'b']);
    expect(await scheduler.runDue(T0)).toBe(0);
    expect(await scheduler.runDue(T0 + 60_000)).toBe(1);
    expect(ran).toEqual(['a', 'b', 'later']);
  });

  it('R-GOV-5: schedule is idempotent per name (also after the job ran); cancel removes a pending job', async () => {
    const { scheduler, ran } = setup();
    await scheduler.schedule(job('x', T0));
    await scheduler.schedule(job('x', T0 - 10));
    await scheduler.schedule(job('gone', T0));
    await scheduler.cancel('gone');
    await scheduler.cancel('never-existed');
    expect(await scheduler.runDue(T0)).toBe(1);
    await scheduler.schedule(job('x', T0));
    expect(await scheduler.runDue(T0)).toBe(0);
    expect(ran).toEqual(['x']);
  });

  it('R-GOV-5: jobs survive a restart (a new scheduler over the same store runs them)', async () => {
    const store = new MemoryDocumentStore();
    const before = setup(store);
    await before.scheduler.schedule(job('expire-g1', T0 + 1_000));
    await before.scheduler.stop();
    const after = setup(store);
    expect(await after.scheduler.runDue(T0 + 1_000)).toBe(1);
    expect(after.ran).toEqual(['expire-g1']);
    expect(before.ran).toEqual([]);
  });

  it('R-GOV-5: a failing job is retried on later polls, then parked as failed after maxAttempts', async () => {
    let failures = 1;
    const { scheduler, ran, parked } = setup(undefined, (j) => j.name === 'flaky' && failures-- > 0);
    await scheduler.schedule(job('flaky', T0));
    expect(await scheduler.runDue(T0)).toBe(0);
    expect(await scheduler.runDue(T0)).toBe(1); // second attempt succeeds
    expect(ran).toEqual(['flaky', 'flaky']);
    expect(parked).toEqual([]);

    const broken = setup(undefined, () => true, 3);
    await broken.scheduler.schedule(job('broken', T0));
    for (let i = 0; i < 5; i++) await broken.scheduler.runDue(T0);
    expect(broken.ran).toEqual(['broken', 'broken', 'broken']);
    expect(broken.parked).toEqual(['broken']);
    const failed = await broken.store.query('main', { pk: 'SCHED#FAILED' });
    expect(failed.items.map((i) => i.sk)).toEqual(['broken']);
  });

  it('R-GOV-5: concurrent polls do not run a job twice; start/stop poll on an interval', async () => {
    const { scheduler, ran } = setup();
    await scheduler.schedule(job('once', T0));
    const counts = await Promise.all([scheduler.runDue(T0), scheduler.runDue(T0), scheduler.runDue(T0)]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1);
    expect(ran).toEqual(['once']);

    const polled = setup();
    await polled.scheduler.schedule(job('tick', T0));
    polled.scheduler.start(5);
    await new Promise((r) => setTimeout(r, 50));
    await polled.scheduler.stop();
    expect(polled.ran).toEqual(['tick']);
  });
});
