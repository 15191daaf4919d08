import { PdfkitAuditReportRenderer } from '../adapters/shared/pdfkit-audit-report-renderer';
import { AuditReportService } from '../core/audit/audit-report';
import { InstitutionAccessLog } from '../core/audit/institution-access-log';
import type { Container } from './container';

interface AuditServices {
  reports: AuditReportService;
  institutionAccess: InstitutionAccessLog;
}

const built = new WeakMap<Container, AuditServices>();

/**
 * The audit read-side services (R-AUD-4 "who accessed my data", R-AUD-6 reports), built once per
 * container from its ports. Kept beside the composition root so the shared container stays small.
 */
export function auditServices(c: Container): AuditServices {
  let s = built.get(c);
  if (!s) {
    s = {
      reports: new AuditReportService({
        store: c.documents,
        objects: c.objects,
        renderer: new PdfkitAuditReportRenderer(),
        clock: c.clock,
        ids: c.ids,
        verifyChain: (range) => c.auditChain.verify(range),
        stage: c.config.stage,
      }),
      institutionAccess: new InstitutionAccessLog(c.documents, {
        listDatasets: () => c.catalog.listDatasets(),
        listGrants: () => c.grants.listAll(),
        patientInstitutions: async (patientId) => (await c.research.getProfile(patientId))?.institutions,
        datasetInstitutions: async (datasetId) => [...new Set((await c.research.profilesOf(datasetId)).flatMap((p) => p.institutions))],
      }),
    };
    built.set(c, s);
  }
  return s;
}
