import { existsSync, readFileSync } from 'node:fs';
import PDFDocument from 'pdfkit';
import { PNG } from 'pngjs';
import type { DemoClinical, DemoIdentity, DemoInstitution } from './demo-model';
import { toShanghai } from './demo-time';

/** Debian `fonts-wqy-microhei` location of the CJK TrueType collection. */
export const CJK_FONT_PATH = '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc';
const CJK_FONT_FAMILY = 'WenQuanYiMicroHei';

/** Parsed fontkit font shared across documents (parsing the 5 MB TTC per PDF costs ~50 ms). */
let cachedFont: unknown | null | undefined;

function cjkFont(fontPath: string | undefined): unknown | null {
  if (cachedFont !== undefined) return cachedFont;
  if (!fontPath || !existsSync(fontPath)) {
    cachedFont = null;
    return cachedFont;
  }
  // pdfkit accepts an already parsed fontkit font (anything with `layout`); take it from a
  // throw-away document so we use pdfkit's own fontkit instance.
  const probe = new PDFDocument({ autoFirstPage: false });
  probe.registerFont('cjk', readFileSync(fontPath), CJK_FONT_FAMILY);
  probe.font('cjk');
  cachedFont = (probe as unknown as { _font: { font: unknown } })._font.font;
  return cachedFont;
}

/** Whether PDFs will carry Chinese text; false → English-only text. */
export function pdfCjkAvailable(fontPath: string | undefined = CJK_FONT_PATH): boolean {
  return cjkFont(fontPath) !== null;
}

/** Text in both languages; the PDF shows Chinese when the CJK font is available. */
type Bi = { zh: string; en: string };

interface PdfContext {
  doc: PDFKit.PDFDocument;
  cjk: boolean;
  t: (b: Bi) => string;
}

function newPdf(title: string, creationIso: string): PdfContext {
  const font = cjkFont(CJK_FONT_PATH);
  const doc = new PDFDocument({
    // Starting with the CJK font skips pdfkit's per-document Helvetica AFM parse.
    ...(font !== null ? { font: font as unknown as string } : {}),
    size: 'A4',
    margin: 50,
    compress: true,
    // Fixed dates keep the document (and its /ID, an MD5 of the info dict) deterministic.
    info: { Title: title, Author: 'MDRP demo generator', Creator: 'MDRP demo generator', Producer: 'pdfkit', CreationDate: new Date(creationIso), ModDate: new Date(creationIso) },
  });
  const cjk = font !== null;
  if (cjk) {
    doc.registerFont('cjk', font as unknown as Buffer, CJK_FONT_FAMILY);
    doc.font('cjk');
  }
  return { doc, cjk, t: (b) => (cjk ? `${b.zh} ${b.en}` : b.en) };
}

function finish(doc: PDFKit.PDFDocument): Uint8Array {
  doc.end();
  // pdfkit pushes every chunk synchronously during end(); draining the readable side synchronously
  // keeps the generator a pure synchronous function.
  const chunks: Buffer[] = [];
  for (let c = doc.read() as Buffer | null; c !== null; c = doc.read() as Buffer | null) chunks.push(c);
  return new Uint8Array(Buffer.concat(chunks));
}

/**
 * One unwrapped line: pdfkit's line wrapper measures every CJK character separately (CJK text
 * breaks anywhere), which made wrapped text the slowest part of report generation.
 */
function line(doc: PDFKit.PDFDocument, s: string): void {
  doc.text(s, { lineBreak: false });
}

function header(ctx: PdfContext, inst: DemoInstitution, title: Bi, id: DemoIdentity, when: string): void {
  const { doc, t } = ctx;
  doc.fontSize(15).text(ctx.cjk ? inst.name.zh : inst.name.en, { align: 'center' });
  doc.fontSize(13).text(t(title), { align: 'center' });
  doc.moveDown(0.6);
  const sex = id.sex === 'female' ? { zh: '女', en: 'F' } : { zh: '男', en: 'M' };
  doc.fontSize(9.5);
  // The report header carries identifiers, as real hospital reports do (R-DEID-4 must remove them).
  line(doc, `${t({ zh: '姓名', en: 'Name' })}: ${ctx.cjk ? id.fullName : '(see HIS)'}    ${t({ zh: '性别', en: 'Sex' })}: ${ctx.cjk ? sex.zh : sex.en}    ${t({ zh: '出生日期', en: 'DOB' })}: ${id.birthDate}`);
  line(doc, `${t({ zh: '病案号', en: 'MRN' })}: ${id.mrn}    ${t({ zh: '身份证号', en: 'Resident ID' })}: ${id.residentId}`);
  line(doc, `${t({ zh: '报告时间', en: 'Reported' })}: ${toShanghai(when).local}`);
  doc.moveTo(50, doc.y + 4).lineTo(545, doc.y + 4).stroke();
  doc.moveDown(0.8);
}

/** One-page pathology report of the core-needle biopsy. */
export function pathologyReportPdf(inst: DemoInstitution, id: DemoIdentity, c: DemoClinical, reportedAt: string, pathologyNo: string): Uint8Array {
  const ctx = newPdf(`Pathology report ${pathologyNo}`, reportedAt);
  const { doc, t } = ctx;
  header(ctx, inst, { zh: '病理诊断报告', en: 'Pathology report' }, id, reportedAt);
  const side = c.laterality === 'left' ? { zh: '左乳', en: 'Left breast' } : { zh: '右乳', en: 'Right breast' };
  doc.fontSize(10.5);
  line(doc, `${t({ zh: '病理号', en: 'Pathology no.' })}: ${pathologyNo}`);
  line(doc, `${t({ zh: '标本', en: 'Specimen' })}: ${t({ zh: `${side.zh}${c.quadrant.zh}肿物空芯针穿刺组织`, en: `${side.en}, ${c.quadrant.en}, core-needle biopsy` })}`);
  doc.moveDown(0.5);
  doc.fontSize(11.5).text(t({ zh: '病理诊断', en: 'Diagnosis' }), { underline: true });
  doc.fontSize(10.5);
  line(doc, t({ zh: `${side.zh}${c.pathologyType.display.zh}，组织学分级 ${c.histologicGrade} 级`, en: `${side.en}: ${c.pathologyType.display.en}, histologic grade ${c.histologicGrade}` }));
  line(doc, `ICD-O-3: ${c.pathologyType.code}    ${t({ zh: '临床分期', en: 'Clinical stage' })}: ${c.cTNM} (${c.stageGroup})`);
  doc.moveDown(0.5);
  doc.fontSize(11.5).text(t({ zh: '免疫组化', en: 'Immunohistochemistry' }), { underline: true });
  doc.fontSize(10.5);
  line(doc, `ER: ${c.erPercent > 0 ? `+ (${c.erPercent}%)` : '- (0%)'}    PR: ${c.prPercent > 0 ? `+ (${c.prPercent}%)` : '- (0%)'}    HER2: ${c.her2Ihc}${c.her2Fish ? ` (FISH: ${c.her2Fish})` : ''}`);
  line(doc, `Ki-67: ${c.ki67Percent}%    PD-L1 (22C3) CPS: ${c.pdl1Cps}`);
  line(doc, `${t({ zh: '分子分型', en: 'Molecular subtype' })}: ${c.molecularSubtype}`);
  doc.moveDown(1);
  doc.fontSize(9).text(t({ zh: '诊断医师：病理科（电子签名）    本报告仅对送检标本负责。', en: 'Pathologist: Department of Pathology (e-signed). Valid for the submitted specimen only.' }));
  return finish(doc);
}

/** Two-page radiotherapy plan summary: prescription on page 1, organ-at-risk dose table on page 2. */
export function radiotherapyPlanPdf(inst: DemoInstitution, id: DemoIdentity, c: DemoClinical, approvedAt: string): Uint8Array {
  const rt = c.radiotherapy;
  if (!rt) throw new Error('patient has no radiotherapy course');
  const ctx = newPdf(`Radiotherapy plan ${rt.planId}`, approvedAt);
  const { doc, t } = ctx;
  header(ctx, inst, { zh: '放射治疗计划摘要', en: 'Radiotherapy plan summary' }, id, approvedAt);
  doc.fontSize(10.5);
  line(doc, `${t({ zh: '计划编号', en: 'Plan ID' })}: ${rt.planId}`);
  line(doc, `${t({ zh: '技术', en: 'Technique' })}: ${t(rt.technique)}`);
  line(doc, `${t({ zh: '靶区', en: 'Target' })}: ${t(rt.target)}`);
  line(doc, `${t({ zh: '处方剂量', en: 'Prescription' })}: ${rt.totalDoseGy} Gy / ${rt.fractions} fx (${rt.dosePerFractionGy} Gy/fx)`);
  line(doc, `${t({ zh: '计划疗程', en: 'Course' })}: ${toShanghai(rt.start).date} — ${toShanghai(rt.end).date}`);
  line(doc, `${t({ zh: '联合治疗', en: 'Systemic therapy' })}: ${ctx.cjk ? c.regimen.name.zh : c.regimen.name.en}`);
  doc.moveDown(1);
  doc.fontSize(9).text(t({ zh: '物理师与主管医师已审核。危及器官剂量见第2页。', en: 'Reviewed by physicist and attending radiation oncologist. Organ-at-risk doses on page 2.' }));
  doc.addPage();
  doc.fontSize(13).text(t({ zh: '危及器官剂量表', en: 'Organ-at-risk dose table' }));
  doc.moveDown(0.5);
  const cols = [50, 230, 300, 380, 470];
  const row = (cells: string[], y: number): void => {
    cells.forEach((s, i) => doc.text(s, cols[i] ?? 50, y, { width: 170, lineBreak: false }));
  };
  doc.fontSize(10);
  let y = doc.y;
  row([t({ zh: '器官', en: 'Organ' }), t({ zh: '指标', en: 'Metric' }), t({ zh: '数值', en: 'Value' }), t({ zh: '限值', en: 'Constraint' }), t({ zh: '达标', en: 'Met' })], y);
  y += 18;
  for (const r of rt.oarDoses) {
    row([ctx.cjk ? r.organ.zh : r.organ.en, r.metric, `${r.value} ${r.unit}`, r.constraint, r.met ? t({ zh: '是', en: 'yes' }) : t({ zh: '否', en: 'NO' })], y);
    y += 16;
  }
  return finish(doc);
}

/** Plain-text (UTF-8, Chinese) report with the identifier header a hospital system prints. */
export function textReport(inst: DemoInstitution, id: DemoIdentity, title: string, when: string, body: string[]): Uint8Array {
  const sex = id.sex === 'female' ? '女' : '男';
  const lines = [
    `${inst.name.zh}  ${title}`,
    `姓名：${id.fullName}  性别：${sex}  出生日期：${id.birthDate}  病案号：${id.mrn}`,
    `身份证号：${id.residentId}  联系电话：${id.mobilePhone}`,
    `住址：${id.address.text}`,
    `报告时间：${toShanghai(when).local}`,
    '----------------------------------------',
    ...body,
    '',
  ];
  return new TextEncoder().encode(lines.join('\n'));
}

/** RGB 8-bit pixels → PNG bytes (deterministic: zlib deflate with fixed settings). */
export function rgbToPng(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const png = new PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength);
  return new Uint8Array(PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false }));
}
