import isIdentityCard from 'validator/lib/isIdentityCard';
import pMap from 'p-map';
import { ValidationError } from '../errors';
import type { Clock } from '../ports/clock';
import type { DocumentStore, Item } from '../ports/document-store';
import type { IdGenerator } from '../ports/id-generator';
import type { KeyProvider } from '../ports/key-provider';

/** Direct identifiers of a patient as a source system knows them. Stored only in the vault. */
export interface PatientIdentity {
  fullName: string;
  sex: 'female' | 'male' | 'other' | 'unknown';
  birthDate: string;
  /** 18-digit resident ID (GB 11643), when the source has one. */
  residentId?: string;
  mrn?: string;
  phone?: string;
  address?: string;
  insuranceNumber?: string;
}

export interface RegisterPatientInput {
  /** `<institution>/<local id>`: the source's stable id of this patient record. */
  sourcePatientId: string;
  institution: string;
  identity: PatientIdentity;
}

export interface RegisterPatientResult {
  /** The internal pseudonymous id: the only patient id the research side ever sees (R-MPI-3). */
  patientId: string;
  created: boolean;
  /** Another patient with the same name, birth date and sex but different ids (R-MPI-2). */
  probableDuplicateOf?: string;
}

type MatchItem = Item & { patientId: string };

/**
 * Master patient index (R-MPI-1..3, ARCHITECTURE D1/D2). Identifiers are matched by keyed hash
 * (HMAC under a KMS key) and never stored in clear; demographics go to the identity vault,
 * envelope-encrypted under the vault's own key with the patient id bound in the encryption
 * context. Everything here lives in the `identity` table, which only ingestion and approved
 * re-identification may touch.
 */
export class PatientIndex {
  constructor(
    private readonly store: DocumentStore,
    private readonly keys: KeyProvider,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  /** Normalizes and validates a resident ID: 18 characters, GB 11643 check digit, upper-case X. */
  static normalizeResidentId(raw: string): string {
    const id = raw.replace(/\s+/g, '').toUpperCase();
    if (!/^\d{17}[\dX]$/.test(id) || !isIdentityCard(id, 'zh-CN')) throw new ValidationError('resident ID fails the GB 11643 check', { field: 'residentId' });
    return id;
  }

  async register(input: RegisterPatientInput): Promise<RegisterPatientResult> {
    const { identity } = input;
    // A resident ID failing its check rejects a new patient only: a source already indexed is
    // recognised by its source id whatever its other identifiers say (as before this was parallel).
    let residentId: string | undefined;
    let invalidResidentId: unknown;
    try {
      residentId = identity.residentId ? PatientIndex.normalizeResidentId(identity.residentId) : undefined;
    } catch (e) {
      invalidResidentId = e;
    }
    // The source, resident-ID and demographics lookups do not depend on one another: the keys are
    // hashed at once (in AWS each is a KMS GenerateMac call), then the source and resident-ID
    // items are read in one round trip beside the demographics query. A known source makes the
    // other reads unneeded; they cost less than the latency they save on new ones.
    const [mrnKey, residentKey, demoKey] = await Promise.all([
      identity.mrn ? this.mrnKey(input.institution, identity.mrn) : undefined,
      residentId ? this.keys.mac('identifier-match', residentId).then((h) => `RID#${h}`) : undefined,
      this.keys.mac('identifier-match', [identity.fullName.trim(), identity.birthDate, identity.sex].join('|')).then((h) => `DEMO#${h}`),
    ]);
    const [[source, existing], sameDemographics] = await Promise.all([
      this.store.getMany<MatchItem>('identity', [{ pk: `SRC#${input.sourcePatientId}`, sk: 'SRC' }, ...(residentKey ? [{ pk: residentKey, sk: 'MATCH' }] : [])]),
      this.store.query<MatchItem>('identity', { pk: demoKey, limit: 10 }),
    ]);
    if (source) {
      // Back-fills the MRN key of patients indexed before it existed (an idempotent overwrite).
      if (mrnKey) await this.store.put('identity', { pk: mrnKey, sk: 'MATCH', patientId: source.patientId });
      return { patientId: source.patientId, created: false };
    }
    if (invalidResidentId) throw invalidResidentId;

    const patientId = existing?.patientId ?? this.newPatientId();
    const probable = sameDemographics.items.find((i) => i.patientId !== patientId)?.patientId;

    const now = new Date(this.clock.now()).toISOString();
    const { ciphertext, keyId } = await this.keys.encrypt('identity', new TextEncoder().encode(JSON.stringify(identity)), { patientId, source: input.sourcePatientId });
    await this.store.transact([
      { kind: 'put', table: 'identity', item: { pk: `SRC#${input.sourcePatientId}`, sk: 'SRC', patientId }, options: { ifNotExists: true } },
      // MRNs are unique within an institution only; DICOM and tables carry them (PatientID, 病案号).
      ...(mrnKey ? [{ kind: 'put' as const, table: 'identity' as const, item: { pk: mrnKey, sk: 'MATCH', patientId } }] : []),
      ...(residentKey && !existing ? [{ kind: 'put' as const, table: 'identity' as const, item: { pk: residentKey, sk: 'MATCH', patientId }, options: { ifNotExists: true } }] : []),
      { kind: 'put', table: 'identity', item: { pk: demoKey, sk: patientId, patientId } },
      {
        kind: 'put',
        table: 'identity',
        item: { pk: `VAULT#${patientId}`, sk: `SRC#${input.sourcePatientId}`, institution: input.institution, keyId, identity: Buffer.from(ciphertext).toString('base64'), createdAt: now },
      },
      ...(probable
        ? [{ kind: 'put' as const, table: 'identity' as const, item: { pk: 'MPI#REVIEW', sk: `${now}#${patientId}`, patientId, candidateId: probable, reason: 'same-name-birthdate-sex', status: 'open' } }]
        : []),
    ]);
    return { patientId, created: !existing, ...(probable ? { probableDuplicateOf: probable } : {}) };
  }

  /** The pseudonymous id of an already indexed source patient record. */
  async lookupSource(sourcePatientId: string): Promise<string | undefined> {
    return (await this.store.get<MatchItem>('identity', { pk: `SRC#${sourcePatientId}`, sk: 'SRC' }))?.patientId;
  }

  /**
   * The pseudonymous id of the patient an institution knows by this medical record number
   * (DICOM PatientID, the 病案号 column of nursing tables). Matched by keyed hash, like resident IDs.
   */
  async lookupMrn(institution: string, mrn: string): Promise<string | undefined> {
    if (!mrn.trim()) return undefined;
    return (await this.store.get<MatchItem>('identity', { pk: await this.mrnKey(institution, mrn), sk: 'MATCH' }))?.patientId;
  }

  /** `lookupMrn` for many MRNs of one institution, in one read (a DICOM queue batch, a zipped study). */
  async lookupMrns(institution: string, mrns: string[]): Promise<Map<string, string | undefined>> {
    // One keyed hash per distinct MRN as matched (trimmed), a few KMS calls at a time.
    const known = [...new Set(mrns.map((m) => m.trim()).filter(Boolean))];
    const keys = await pMap(known, async (m) => ({ pk: await this.mrnKey(institution, m), sk: 'MATCH' }), { concurrency: 8 });
    const found = await this.store.getMany<MatchItem>('identity', keys);
    const byMrn = new Map(known.map((m, i) => [m, found[i]?.patientId]));
    return new Map(mrns.map((m) => [m, byMrn.get(m.trim())]));
  }

  /** `MRN#<institution>#<hmac>`: the institution in clear (not an identifier), the MRN keyed-hashed. */
  private async mrnKey(institution: string, mrn: string): Promise<string> {
    return `MRN#${institution}#${await this.keys.mac('identifier-match', `${institution}|${mrn.trim()}`)}`;
  }

  /** Decrypts a patient's vault entries (ingestion and approved re-identification only). */
  async identities(patientId: string): Promise<Array<{ sourcePatientId: string; institution: string; identity: PatientIdentity }>> {
    const page = await this.store.query<Item & { identity: string; institution: string; contextPatientId?: string }>('identity', { pk: `VAULT#${patientId}`, limit: 100 });
    return Promise.all(
      page.items.map(async (i) => {
        const source = i.sk.slice(4);
        // Entries moved here by a merge (R-MPI-2) stay encrypted under the id they were written for.
        const plain = await this.keys.decrypt('identity', new Uint8Array(Buffer.from(i.identity, 'base64')), { patientId: i.contextPatientId ?? patientId, source });
        return { sourcePatientId: source, institution: i.institution, identity: JSON.parse(new TextDecoder().decode(plain)) as PatientIdentity };
      }),
    );
  }

  /** The identifier match keys (resident ID, MRN) an identity is indexed under (used by merges, R-MPI-2). */
  async matchKeysOf(institution: string, identity: PatientIdentity): Promise<string[]> {
    const keys: string[] = [];
    if (identity.residentId) {
      try {
        keys.push(`RID#${await this.keys.mac('identifier-match', PatientIndex.normalizeResidentId(identity.residentId))}`);
      } catch {
        // an invalid resident ID was never indexed
      }
    }
    if (identity.mrn) keys.push(await this.mrnKey(institution, identity.mrn));
    return keys;
  }

  /** The partition of the same-name/birth-date/sex key of an identity (R-MPI-2). */
  async demographicKeyOf(identity: PatientIdentity): Promise<string> {
    return `DEMO#${await this.keys.mac('identifier-match', [identity.fullName.trim(), identity.birthDate, identity.sex].join('|'))}`;
  }

  /** Open probable-duplicate cases for an operator (R-MPI-2). */
  async reviewQueue(): Promise<Array<{ patientId: string; candidateId: string; reason: string; openedAt: string }>> {
    const page = await this.store.query<Item & { patientId: string; candidateId: string; reason: string; status: string }>('identity', { pk: 'MPI#REVIEW', limit: 500 });
    return page.items.filter((i) => (i.status ?? 'open') === 'open').map((i) => ({ patientId: i.patientId, candidateId: i.candidateId, reason: i.reason, openedAt: i.sk.split('#')[0]! }));
  }

  /** Pseudonymous ids: `PT-` + 12 base-36 characters; random, so they reveal nothing. */
  private newPatientId(): string {
    return `PT-${this.ids.next('p').slice(-12).toUpperCase()}`;
  }
}
