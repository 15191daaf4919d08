import type { DeidPolicy } from '../deid/deid-policy';
import { scrubText } from '../deid/text-scrubber';

/**
 * Labels of form fields whose value identifies the patient. Printed reports put identity in a
 * header of `label: value` pairs ("姓名 Name: …", "病案号 MRN: …"). The free-text scrubber finds
 * these values itself (names after Chinese, English and bilingual labels; IDs and numbers by their
 * shape); on a printed form the label alone is reason enough, so values after these labels are
 * also removed whatever they look like — a value no detector has a shape for (a romanized or
 * foreign name, a local number format) does not leave the platform (defence in depth).
 */
const IDENTIFYING_LABELS = [
  '患者姓名',
  '姓名',
  '联系人',
  '家属',
  '电话',
  '手机',
  '住址',
  '地址',
  '身份证号',
  '身份证',
  '病案号',
  '住院号',
  '门诊号',
  '医保号',
  'Patient name',
  'Name',
  'Contact',
  'Phone',
  'Address',
  'Resident ID',
  'ID number',
  'MRN',
  'Insurance',
];

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// `<label>[ <second label>] : <value>` — the value runs to the next whitespace-separated label or line end.
const LABELLED = new RegExp(`((?:${IDENTIFYING_LABELS.map(escape).join('|')})(?:\\s+(?:${IDENTIFYING_LABELS.map(escape).join('|')}))?\\s*[:：]\\s*)([^\\n\\f:：]*?)(?=[ \\t]+\\S+(?:[ \\t]+[A-Za-z][A-Za-z ]*)?[ \\t]*[:：]|[ \\t]*$|[\\n\\f])`, 'gm');

/** Removes values of identifying form fields (see {@link IDENTIFYING_LABELS}). */
export function redactLabelledFields(text: string): { text: string; redacted: number } {
  let redacted = 0;
  const out = text.replace(LABELLED, (_m, label: string, value: string) => {
    if (!value.trim()) return label;
    redacted += 1;
    return `${label}[REDACTED]`;
  });
  return { text: out, redacted };
}

/**
 * De-identifies the text of a document for release (R-DEID-4): identifying form fields removed,
 * then the free-text scrubber (names, resident IDs, phones, addresses, record numbers; dates
 * shifted by the patient's offset under the policy).
 */
export function deidentifyDocumentText(text: string, policy: DeidPolicy, shiftDays: number): { text: string; spans: number } {
  const fields = redactLabelledFields(text);
  const scrubbed = scrubText(fields.text, { policy, dateShiftDays: shiftDays });
  return { text: scrubbed.text, spans: fields.redacted + scrubbed.spans.length };
}
