import type { PurposeCode } from './access-request';

/**
 * GA4GH Data Use Ontology matching (R-DSR-2, R-GOV-3): does a patient's consent cover a
 * request's purpose? DUO's hierarchy: general research use (DUO:0000042) covers every research
 * purpose; health/medical/biomedical research (DUO:0000006) covers itself and disease-specific
 * research (DUO:0000007); disease-specific consent covers only disease-specific research (the
 * dataset's disease); population-origins consent (DUO:0000011) covers only that.
 */
export function consentCovers(consent: { duoCode: string; status: string }, purpose: PurposeCode): { covered: boolean; reason: string } {
  if (consent.status !== 'active') return { covered: false, reason: `consent ${consent.status}` };
  const covers: Record<string, readonly string[]> = {
    'DUO:0000042': ['DUO:0000042', 'DUO:0000006', 'DUO:0000007', 'DUO:0000011'],
    'DUO:0000006': ['DUO:0000006', 'DUO:0000007'],
    'DUO:0000007': ['DUO:0000007'],
    'DUO:0000011': ['DUO:0000011'],
  };
  const ok = (covers[consent.duoCode] ?? []).includes(purpose);
  return { covered: ok, reason: ok ? `${consent.duoCode} covers ${purpose}` : `${consent.duoCode} does not cover ${purpose}` };
}
