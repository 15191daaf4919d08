import { describe, expect, it } from 'vitest';
import en from '../../../web/messages/en.json' with { type: 'json' };
import zh from '../../../web/messages/zh-CN.json' with { type: 'json' };
import {
  MODALITIES,
  OUTCOMES_BY_STEP,
  PURPOSE_CODES,
  availableModalities,
  daysUntil,
  draftToBody,
  emptyDraft,
  fieldErrorsFromApi,
  parseFieldList,
  pollUntil,
  purposeKey,
  stepStates,
  validateDraft,
  type RequestDraft,
} from '../../../web/lib/access';
import { ApiError, type DatasetSummary } from '../../../web/lib/api-client';
import { SubmitAccessRequestSchema } from '../../../functions/http/routes/access.routes';
import { OUTCOMES_BY_STEP as CORE_OUTCOMES, PURPOSE_CODES as CORE_PURPOSES } from '../../../functions/core/access/access-request';

const catalogue: DatasetSummary[] = [
  { datasetId: 'bc-nrt-io', title: 'Cohort', description: '', disease: 'C50', securityLevel: 3, modalities: ['clinical', 'labs', 'imaging'], patientCount: 24, recordCount: 100, institution: 'demo-hospital-1', fileCount: 0, updatedAt: '2026-01-01T00:00:00Z' },
  { datasetId: 'other-set', title: 'Other', description: '', disease: 'C50', securityLevel: 2, modalities: ['nursing'], patientCount: 5, recordCount: 10, institution: 'demo-hospital-1', fileCount: 0, updatedAt: '2026-01-01T00:00:00Z' },
];

const valid: RequestDraft = {
  ...emptyDraft(['bc-nrt-io']),
  title: 'pCR after RT + IO',
  purposeCode: 'DUO:0000007',
  purpose: 'Evaluate pathological complete response.',
  academicStatement: 'x'.repeat(50),
  modalities: ['imaging'],
  fields: 'age_band, tnm_stage',
  durationDays: '90',
  agreementAccepted: true,
};

describe('access request form rules (R-GOV-2)', () => {
  it('R-GOV-2: a valid draft passes and its body satisfies the API schema', () => {
    expect(validateDraft(valid, catalogue)).toEqual({});
    const body = draftToBody(valid);
    expect(body.scope).toEqual({ datasetIds: ['bc-nrt-io'], modalities: ['imaging'], fields: ['age_band', 'tnm_stage'] });
    expect(SubmitAccessRequestSchema.safeParse(body).success).toBe(true);
  });

  it('R-GOV-2: mirrors the server limits field by field', () => {
    const errors = validateDraft(
      { ...emptyDraft(), title: 'abc', academicStatement: 'too short', durationDays: '400', fields: 'ok, bad field!' },
      catalogue,
    );
    expect(errors.title?.key).toBe('tooShort');
    expect(errors.purposeCode?.key).toBe('choosePurpose');
    expect(errors.purpose?.key).toBe('required');
    expect(errors.academicStatement).toMatchObject({ key: 'tooShort', values: { min: 50, count: 9 } });
    expect(errors['scope.datasetIds']?.key).toBe('chooseDataset');
    expect(errors['scope.fields']).toMatchObject({ key: 'invalidField', values: { field: 'field!' } });
    expect(errors.requestedDurationDays?.key).toBe('duration');
    expect(errors.agreementAccepted?.key).toBe('acceptAgreement');
    expect(validateDraft({ ...valid, durationDays: '1.5' }).requestedDurationDays?.key).toBe('duration');
  });

  it('offers only the modalities of the chosen datasets, in API order', () => {
    expect(availableModalities(catalogue, ['bc-nrt-io'])).toEqual(['clinical', 'imaging', 'labs']);
    expect(availableModalities(catalogue, [])).toEqual([]);
    expect(validateDraft({ ...valid, modalities: ['nursing'] }, catalogue)['scope.modalities']?.key).toBe('modalityNotInDatasets');
    expect(MODALITIES.every((m) => (SubmitAccessRequestSchema.shape.scope.shape.modalities.unwrap().element.options as readonly string[]).includes(m))).toBe(true);
  });

  it('splits field lists on commas, spaces and Chinese punctuation', () => {
    expect(parseFieldList('a, b，c;d\ne a')).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('keeps purpose codes and step outcomes in step with the domain core', () => {
    expect([...PURPOSE_CODES].sort()).toEqual(Object.keys(CORE_PURPOSES).sort());
    expect(OUTCOMES_BY_STEP).toEqual(CORE_OUTCOMES);
    for (const locale of [en, zh] as Array<{ access: { purposes: Record<string, string> } }>) {
      for (const code of PURPOSE_CODES) expect(locale.access.purposes[purposeKey(code)], code).toBeTypeOf('string');
    }
  });
});

describe('server errors land on their fields', () => {
  it('maps details.field and zod issue paths to the nearest known field', () => {
    const byField = new ApiError(400, 'VALIDATION_FAILED', 'duration beyond policy', { field: 'requestedDurationDays' });
    expect(fieldErrorsFromApi(byField, ['title', 'requestedDurationDays'])).toEqual({
      requestedDurationDays: { key: 'server', serverMessage: 'duration beyond policy', code: 'VALIDATION_FAILED' },
    });
    const byIssues = new ApiError(400, 'VALIDATION_FAILED', 'invalid body', { issues: [{ path: 'scope.datasetIds.0', message: 'Invalid string' }, { path: 'nowhere', message: 'x' }] });
    expect(Object.keys(fieldErrorsFromApi(byIssues, ['scope', 'scope.datasetIds']) ?? {})).toEqual(['scope.datasetIds']);
    expect(fieldErrorsFromApi(new ApiError(409, 'CONFLICT', 'step closed', { requestId: 'AR-2026-000001' }), ['comment'])).toBeUndefined();
    expect(fieldErrorsFromApi(new Error('boom'), ['comment'])).toBeUndefined();
  });
});

describe('workflow display (R-GOV-3, R-GOV-4, R-GOV-5)', () => {
  it('R-GOV-4: highlights the open step of ethics + approval chain', () => {
    const states = stepStates({
      approvalChain: ['approver', 'data-owner'],
      status: 'approval',
      pending: { step: 'approver' },
      history: [{ action: 'submitted' }, { action: 'approved', step: 'ethics' }],
    });
    expect(states).toEqual([
      { step: 'ethics', state: 'done' },
      { step: 'approver', state: 'current' },
      { step: 'data-owner', state: 'upcoming' },
    ]);
    const rejected = stepStates({ approvalChain: ['approver'], status: 'rejected', history: [{ action: 'rejected', step: 'ethics' }] });
    expect(rejected.map((s) => s.state)).toEqual(['rejected', 'upcoming']);
  });

  it('R-GOV-5: counts whole days left until expiry', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(daysUntil('2026-04-01T00:00:00Z', now)).toBe(90);
    expect(daysUntil('2026-01-01T12:00:00Z', now)).toBe(1);
    expect(daysUntil('2025-12-31T00:00:00Z', now)).toBe(-1);
  });

  it('polls until the asynchronous workflow moved on, or gives up with the last value', async () => {
    let n = 0;
    const sleep = async () => undefined;
    expect(await pollUntil(async () => ++n, (v) => v >= 3, { sleep })).toBe(3);
    n = 0;
    expect(await pollUntil(async () => ++n, () => false, { attempts: 4, sleep })).toBe(4);
  });
});
