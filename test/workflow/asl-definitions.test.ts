import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
// CommonJS module without bundled types.
const aslValidator = require('asl-validator') as (definition: unknown, options?: { checkPaths?: boolean; checkArn?: boolean }) => {
  isValid: boolean;
  errors: unknown[];
};

const dir = fileURLToPath(new URL('../../state-machines/', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

type State = Record<string, unknown> & { Type: string };
type Definition = { StartAt: string; States: Record<string, State> };

/** Every state with its name, nested Map/Parallel states included; `top` marks the outer level. */
function allStates(def: Definition, top = true): Array<{ name: string; state: State; top: boolean }> {
  return Object.entries(def.States).flatMap(([name, state]) => {
    const own = [{ name, state, top }];
    const processor = (state.ItemProcessor ?? state.Iterator) as Definition | undefined;
    const nested = processor ? allStates(processor, false) : [];
    const branches = ((state.Branches as Definition[] | undefined) ?? []).flatMap((b) => allStates(b, false));
    return [...own, ...nested, ...branches];
  });
}

describe('state machine definitions', () => {
  it('finds the definitions', () => {
    expect(files).toContain('access-request.asl.json');
  });

  for (const file of files) {
    const def = JSON.parse(readFileSync(`${dir}${file}`, 'utf8')) as Definition;
    // The deployed form: CDK replaces ${Var} with real ARNs before validation in AWS.
    const deployed = JSON.parse(
      JSON.stringify(def).replace(/\$\{[A-Za-z0-9_]+\}/g, 'arn:aws:lambda:eu-west-1:123456789012:function:mdrp-fn'),
    ) as Definition;

    it(`R-GOV-4: ${file} is valid ASL (asl-validator, paths and ARNs checked)`, () => {
      const result = aslValidator(structuredClone(deployed), { checkPaths: true, checkArn: true });
      expect(result.errors).toEqual([]);
      expect(result.isValid).toBe(true);
    });

    it(`R-GOV-4: ${file} — every Task has a timeout, a task name and the substituted function`, () => {
      const tasks = allStates(def).filter((s) => s.state.Type === 'Task');
      expect(tasks.length).toBeGreaterThan(0);
      for (const { name, state } of tasks) {
        expect(state.TimeoutSeconds ?? state.TimeoutSecondsPath, name).toBeDefined();
        expect(['arn:aws:states:::lambda:invoke', 'arn:aws:states:::lambda:invoke.waitForTaskToken'], name).toContain(state.Resource);
        const params = state.Parameters as { FunctionName: string; Payload: Record<string, unknown> };
        expect(params.FunctionName, name).toMatch(/^\$\{[A-Za-z0-9]+\}$/);
        expect(typeof params.Payload.task, name).toBe('string');
        expect(params.Payload['requestId.$'], name).toBe('$.requestId');
        if (String(state.Resource).endsWith('.waitForTaskToken')) expect(params.Payload['taskToken.$'], name).toBe('$$.Task.Token');
        else expect(state.Retry, name).toBeDefined();
      }
    });

    it(`R-GOV-4: ${file} — outer Tasks and Maps end in MarkFailed on any error, keeping the input`, () => {
      for (const { name, state, top } of allStates(def)) {
        if (!top || !['Task', 'Map'].includes(state.Type) || name === 'MarkFailed') continue;
        const catchers = (state.Catch as Array<{ ErrorEquals: string[]; Next: string; ResultPath?: string }> | undefined) ?? [];
        const last = catchers.at(-1);
        expect(last?.ErrorEquals, name).toEqual(['States.ALL']);
        expect(last?.Next, name).toBe('MarkFailed');
        for (const c of catchers) expect(c.ResultPath, `${name} Catch ResultPath`).toMatch(/^\$\.\w+$/);
      }
    });
  }
});
