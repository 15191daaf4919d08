import { describe, expect, it } from 'vitest';
import type { PatientIdentity } from '../../../functions/core/patients/patient-index';
import { testContainer } from '../../support/test-container';

/** The master patient index's matching rules (R-MPI-1, R-MPI-2). */
describe('patient index register', () => {
  const identity: PatientIdentity = { fullName: '王小红', sex: 'female', birthDate: '1968-03-07', residentId: '11010519491231002X', mrn: 'MRN-001' };

  it('R-MPI-1: the same resident ID from another institution is the same patient; the same source again is the same patient', async () => {
    const c = testContainer();
    const a = await c.patientIndex.register({ sourcePatientId: 'inst-a/p1', institution: 'inst-a', identity });
    const b = await c.patientIndex.register({ sourcePatientId: 'inst-b/x9', institution: 'inst-b', identity: { ...identity, mrn: 'B-77' } });
    const again = await c.patientIndex.register({ sourcePatientId: 'inst-a/p1', institution: 'inst-a', identity });
    expect(a.created).toBe(true);
    expect(b).toMatchObject({ patientId: a.patientId, created: false });
    expect(again).toEqual({ patientId: a.patientId, created: false });
    expect(await c.patientIndex.lookupMrn('inst-b', 'B-77')).toBe(a.patientId);
  });

  it('R-MPI-1: many MRNs are matched in one read, each distinct MRN keyed-hashed once, padding and repeats as the bare MRN, blanks and strangers unmatched', async () => {
    const c = testContainer();
    const a = await c.patientIndex.register({ sourcePatientId: 'inst-a/p1', institution: 'inst-a', identity });
    const macs: string[] = [];
    const mac = c.keys.mac.bind(c.keys);
    c.keys.mac = (purpose, value) => {
      macs.push(value);
      return mac(purpose, value);
    };
    const getMany = c.documents.getMany.bind(c.documents);
    let reads = 0;
    c.documents.getMany = (table, keys) => {
      reads += 1;
      return getMany(table, keys);
    };
    // DICOM pads a PatientID of odd length with a space.
    const found = await c.patientIndex.lookupMrns('inst-a', ['MRN-001 ', 'MRN-001', ' ', 'MRN-999', 'MRN-001']);
    expect([...found]).toEqual([['MRN-001 ', a.patientId], ['MRN-001', a.patientId], [' ', undefined], ['MRN-999', undefined]]);
    expect(macs).toEqual(['inst-a|MRN-001', 'inst-a|MRN-999']);
    expect(reads).toBe(1);
    expect(await c.patientIndex.lookupMrns('inst-b', ['MRN-001'])).toEqual(new Map([['MRN-001', undefined]]));
  });

  it('R-MPI-1: a new patient whose resident ID fails the GB 11643 check is refused and nothing is indexed', async () => {
    const c = testContainer();
    await expect(c.patientIndex.register({ sourcePatientId: 'inst-a/p2', institution: 'inst-a', identity: { ...identity, residentId: '110105194912310021' } })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await c.patientIndex.lookupSource('inst-a/p2')).toBeUndefined();
    expect(await c.patientIndex.lookupMrn('inst-a', 'MRN-001')).toBeUndefined();
  });

  it('R-MPI-1: a source already indexed is recognised by its source id even if its resident ID is now mistyped', async () => {
    const c = testContainer();
    const a = await c.patientIndex.register({ sourcePatientId: 'inst-a/p1', institution: 'inst-a', identity });
    expect(await c.patientIndex.register({ sourcePatientId: 'inst-a/p1', institution: 'inst-a', identity: { ...identity, residentId: '110105194912310021' } })).toEqual({ patientId: a.patientId, created: false });
  });

  it('R-MPI-2: same name, birth date and sex under another resident ID is a new patient flagged as a probable duplicate', async () => {
    const c = testContainer();
    const a = await c.patientIndex.register({ sourcePatientId: 'inst-a/p1', institution: 'inst-a', identity });
    const b = await c.patientIndex.register({ sourcePatientId: 'inst-b/q1', institution: 'inst-b', identity: { fullName: '王小红', sex: 'female', birthDate: '1968-03-07', residentId: '440524188001010014' } });
    expect(b.patientId).not.toBe(a.patientId);
    expect(b).toMatchObject({ created: true, probableDuplicateOf: a.patientId });
  });
});
