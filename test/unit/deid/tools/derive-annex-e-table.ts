/**
 * Derives `functions/core/deid/reference/annex-e-table.json` from the PS3.15 Table E.1-1 reference
 * JSON (Innolitics, MIT — licence note kept in the output and beside it): one row per attribute
 * with its tag, keyword and VR (from the dcmjs data dictionary) and the Basic Profile and option
 * actions. Deterministic; run when the reference edition changes:
 *
 *   npx tsx test/unit/deid/tools/derive-annex-e-table.ts ../shared/reference/dicom-ps3.15-table-e1-1.json
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as dcmjsModule from 'dcmjs';

const dcmjs = ((dcmjsModule as { default?: unknown }).default ?? dcmjsModule) as { data: { DicomMetaDictionary: { dictionary: Record<string, { vr: string; name: string }> } } };

interface SourceRow {
  tag: string;
  name: string;
  basicProfile: string;
  [option: string]: string;
}

const OPTIONS = ['cleanDescOpt', 'cleanStructContOpt', 'cleanGraphOpt', 'rtnLongFullDatesOpt', 'rtnLongModifDatesOpt', 'rtnUIDsOpt', 'rtnPatCharsOpt', 'rtnDevIdOpt', 'rtnInstIdOpt', 'rtnSafePrivOpt'];

const src = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '../../../../../shared/reference/dicom-ps3.15-table-e1-1.json');
const rows = JSON.parse(readFileSync(src, 'utf8')) as SourceRow[];
const out = rows.map((r) => {
  const key = r.tag.replace(/[()]/g, '').replace(',', '').toUpperCase();
  const pattern = /^[0-9A-F]{8}$/.test(key) ? undefined : r.tag;
  const entry = dcmjs.data.DicomMetaDictionary.dictionary[r.tag.toUpperCase()];
  const row: Record<string, string> = { tag: pattern ? r.tag : key, name: r.name };
  if (entry) {
    row.keyword = entry.name;
    row.vr = entry.vr;
  }
  row.basic = r.basicProfile;
  for (const o of OPTIONS) if (r[o]) row[o] = r[o] as string;
  return row;
});
const target = join(dirname(fileURLToPath(import.meta.url)), '../../../../functions/core/deid/reference');
const doc = {
  source: 'DICOM PS3.15 2024b, Annex E, Table E.1-1 (Application Level Confidentiality Profile Attributes), machine-readable by Innolitics (dicom-standard)',
  licence: 'Derived from the Innolitics dicom-standard JSON, Copyright (c) 2017 Innolitics, LLC, MIT licence (see annex-e-table.LICENSE.txt). DICOM® is the registered trademark of NEMA.',
  rows: out.length,
  attributes: out,
};
writeFileSync(join(target, 'annex-e-table.json'), JSON.stringify(doc, null, 1) + '\n');
copyFileSync(src.replace(/\.json$/, '.LICENSE.txt'), join(target, 'annex-e-table.LICENSE.txt'));
console.log(`wrote ${out.length} rows`);
