import { describe, expect, it } from 'vitest';
import { mapDrained, WritePool } from '../../../functions/core/in-flight';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A task log: which calls started, which finished, and when the caller saw the outcome. */
function recorder() {
  const log: string[] = [];
  const task = (name: string, ms: number, fails = false) => async () => {
    log.push(`start ${name}`);
    await tick(ms);
    log.push(`end ${name}`);
    if (fails) throw new Error(`${name} failed`);
    return name;
  };
  return { log, task };
}

describe('bounded writes that never outlive their failure (R-ING-5: nothing half-written)', () => {
  it('mapDrained keeps input order and at most `concurrency` calls in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const out = await mapDrained([30, 5, 20, 1, 10], async (ms, i) => {
      most = Math.max(most, ++inFlight);
      await tick(ms);
      inFlight -= 1;
      return `${i}:${ms}`;
    }, 2);
    expect(out).toEqual(['0:30', '1:5', '2:20', '3:1', '4:10']);
    expect(most).toBe(2);
  });

  it('mapDrained on a failure starts nothing more, waits for the calls in flight, then throws that failure', async () => {
    const { log, task } = recorder();
    const calls = [task('a', 30), task('b', 5, true), task('c', 1), task('d', 1)];
    await expect(mapDrained(calls, (call) => call(), 2).finally(() => log.push('rejected'))).rejects.toThrow('b failed');
    // b's freed slot takes nothing more (c and d never start); a ends before the caller hears of b.
    expect(log).toEqual(['start a', 'start b', 'end b', 'end a', 'rejected']);
  });

  it('mapDrained: an iteration that throws (a parse of the next chunk) also waits for the calls in flight', async () => {
    const { log, task } = recorder();
    async function* chunks() {
      yield task('a', 20);
      yield task('b', 20);
      await tick(1);
      throw new Error('the next chunk could not be read');
    }
    await expect(mapDrained(chunks(), (call) => call(), 4).finally(() => log.push('rejected'))).rejects.toThrow('could not be read');
    expect(log).toEqual(['start a', 'start b', 'end a', 'end b', 'rejected']);
  });

  it('WritePool: a failure is rethrown by the next add or drain, after the writes already started settled', async () => {
    const { log, task } = recorder();
    const pool = new WritePool(2);
    await pool.add(task('a', 30));
    await pool.add(task('b', 5, true));
    // The pool is full: this add waits for b, finds it failed, drains a and throws b's error.
    await expect(pool.add(task('c', 1)).finally(() => log.push('rejected'))).rejects.toThrow('b failed');
    expect(log).toEqual(['start a', 'start b', 'end b', 'end a', 'rejected']);
    await expect(pool.drain()).rejects.toThrow('b failed');
  });
});
