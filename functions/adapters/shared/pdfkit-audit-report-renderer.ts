import PDFDocument from 'pdfkit';
import type { AuditReportData, AuditReportRenderer, Tally } from '../../core/audit/audit-report';

/**
 * Renders the quarterly audit report (R-AUD-6) as a PDF with pdfkit. The text is English and
 * uses the PDF standard fonts, so nothing has to be embedded or read at run time beyond pdfkit
 * itself (the same output in Lambda and locally); the report holds ids and counts only.
 */
export class PdfkitAuditReportRenderer implements AuditReportRenderer {
  async render(r: AuditReportData): Promise<Uint8Array> {
    const doc = new PDFDocument({
      size: 'A4',
      margin: 50,
      compress: true,
      info: { Title: `MDRP audit report ${r.period}`, Author: r.generatedBy, Creator: 'MDRP', Producer: 'pdfkit', CreationDate: new Date(r.generatedAt), ModDate: new Date(r.generatedAt) },
    });
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    const done = new Promise<void>((resolve, reject) => {
      doc.on('end', () => resolve());
      doc.on('error', reject);
    });

    const h1 = (t: string) => doc.font('Helvetica-Bold').fontSize(18).text(t).moveDown(0.5);
    const h2 = (t: string) => {
      if (doc.y > 700) doc.addPage();
      doc.moveDown(0.6).font('Helvetica-Bold').fontSize(13).text(t).moveDown(0.3);
    };
    const p = (t: string) => doc.font('Helvetica').fontSize(10).text(t).moveDown(0.2);
    const table = (head: string[], rows: string[][], widths: number[]) => {
      const x0 = doc.page.margins.left;
      const line = (cells: string[], bold: boolean) => {
        if (doc.y > 760) doc.addPage();
        const y = doc.y;
        let x = x0;
        let h = 0;
        doc.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(9);
        cells.forEach((c, i) => {
          const w = widths[i]!;
          h = Math.max(h, doc.heightOfString(c, { width: w - 4 }));
          doc.text(c, x, y, { width: w - 4 });
          x += w;
        });
        doc.x = x0;
        doc.y = y + h + 3;
      };
      line(head, true);
      if (rows.length === 0) line(['(none)'], false);
      for (const row of rows) line(row, false);
      doc.moveDown(0.3);
    };
    const tallyTable = (label: string, t: Tally[]) => table([label, 'Events'], t.map((x) => [x.key, String(x.count)]), [360, 100]);

    h1(`MDRP audit report ${r.period}`);
    p(`Period: ${r.periodStart} to ${r.periodEnd} (end exclusive, UTC)`);
    p(`Generated: ${r.generatedAt} by ${r.generatedBy}`);

    h2('1. Scope');
    p(`Deployment stage: ${r.scope.stage}. Institution: ${r.scope.institution}.`);
    p(`Sources: ${r.scope.sources.join('; ')}.`);

    h2('2. Process');
    p(
      `Every event of the period was read from the audit trail and counted. The signed digest chain was verified over the period: ${r.chain.ok ? 'INTACT' : 'BROKEN'} ` +
        `(${r.chain.digestsChecked} digests, ${r.chain.eventsChecked} events checked${r.chain.sealedThrough ? `, sealed through ${r.chain.sealedThrough}` : ''}).`,
    );
    if (r.chain.firstBroken) p(`First broken link: digest ${r.chain.firstBroken.digestId}, reason ${r.chain.firstBroken.reason}${r.chain.firstBroken.eventId ? `, event ${r.chain.firstBroken.eventId}` : ''}.`);

    h2('3. Activity');
    table(
      ['Events', 'Actors', 'Success', 'Failure', 'Denied'],
      [[r.totals.events, r.totals.actors, r.totals.success, r.totals.failure, r.totals.denied].map(String)],
      [92, 92, 92, 92, 92],
    );
    tallyTable('Category', r.byCategory);
    tallyTable('Outcome', r.byOutcome);
    tallyTable('Operation', r.byOperation.slice(0, 30));

    h2('4. Findings (alert rules)');
    p(`Alerts raised in the period: ${r.alerts.total}.`);
    tallyTable('Rule', r.alerts.byRule);
    tallyTable('Severity', r.alerts.bySeverity);
    table(
      ['Time', 'Rule', 'Severity', 'Actor', 'Operation'],
      r.alerts.items.slice(0, 25).map((a) => [a.time, a.rule, a.severity, a.actorId, a.operation]),
      [110, 95, 55, 120, 115],
    );

    h2('5. Risks: users');
    p('Ranked by denied + failed calls + 5 x alerts. A ranking to direct review, not a verdict.');
    table(
      ['Actor', 'Roles', 'Events', 'Denied', 'Failed', 'Alerts', 'Score'],
      r.riskyUsers.map((u) => [u.actorId, u.roles.join(', ') || u.kind, u.events, u.denied, u.failed, u.alerts, u.score].map(String)),
      [150, 95, 50, 45, 45, 45, 65],
    );

    h2('6. Risks: data items');
    p('Data items most accessed in the period, ranked by accesses + 3 x denials + 5 x exports + distinct actors.');
    table(
      ['Item', 'Accesses', 'Actors', 'Denied', 'Exports', 'Score'],
      r.riskyItems.map((i) => [`${i.type} ${i.id}`, i.accesses, i.distinctActors, i.denied, i.exports, i.score].map(String)),
      [215, 55, 50, 45, 50, 80],
    );

    h2('7. Recommendations');
    p('To be completed by the auditor:');
    for (let i = 0; i < 6; i++) {
      if (doc.y > 760) doc.addPage();
      const y = doc.y + 14;
      doc.moveTo(doc.page.margins.left, y).lineTo(doc.page.width - doc.page.margins.right, y).lineWidth(0.5).stroke();
      doc.y = y + 4;
    }
    doc.moveDown(1);
    p('Auditor: ______________________    Date: ____________    Signature: ______________________');

    doc.end();
    await done;
    return new Uint8Array(Buffer.concat(chunks));
  }
}
