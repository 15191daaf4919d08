import type { KeyProvider } from '../ports/key-provider';
import type { GrantWatermark } from './watermark';

/**
 * Keyed, project-scoped derivations (ARCHITECTURE D2). Everything is an HMAC-SHA-256 under the
 * KMS-held `pseudonym` key, so tokens, date offsets and UIDs are stable for one project, differ
 * between projects (no cross-project joins) and cannot be recomputed without the key.
 * Re-identification is only possible through the vault's audited procedure (R-DEID-3).
 */

const VERSION = 'mdrp-deid-v1';

/** A cache in front of the key provider: one resource has many repeated references. */
export class Pseudonymizer {
  private readonly cache = new Map<string, Promise<string>>();
  private readonly uids = new Map<string, Promise<string>>();

  /**
   * @param watermark level-3 releases (R-DEID-6): the grant's watermark, which then marks every
   *   replacement UID (see {@link uid}); it must belong to the same grant as `projectId`.
   */
  constructor(
    private readonly keys: KeyProvider,
    readonly projectId: string,
    readonly watermark?: GrantWatermark,
  ) {
    if (!projectId) throw new Error('projectId is required: pseudonyms are project-scoped');
    if (watermark && watermark.grantId !== projectId) throw new Error('watermark belongs to another grant');
  }

  private mac(kind: string, value: string): Promise<string> {
    const message = `${VERSION}|${kind}|${this.projectId}|${value}`;
    let hit = this.cache.get(message);
    if (!hit) {
      hit = this.keys.mac('pseudonym', message);
      this.cache.set(message, hit);
    }
    return hit;
  }

  /**
   * Token of a value in a namespace (e.g. `patient`, `Encounter`, `identifier:<system>`):
   * 32 hex characters (128 bits), valid as a FHIR id and a DICOM LO.
   *
   * @example
   * const t = await new Pseudonymizer(keys, 'proj-1').token('patient', 'demo-hospital-1/1040352567');
   */
  async token(namespace: string, value: string): Promise<string> {
    return (await this.mac(`token:${namespace}`, value)).slice(0, 32);
  }

  /**
   * Per-patient date offset in whole days, in [−max, −min] ∪ [min, max]; identical for every
   * resource and file of the patient within the project, so intervals are preserved.
   */
  async dateOffsetDays(patientToken: string, window: { minDays: number; maxDays: number }): Promise<number> {
    const h = await this.mac('date-offset', patientToken);
    const span = window.maxDays - window.minDays + 1;
    const n = Number.parseInt(h.slice(0, 8), 16);
    const magnitude = window.minDays + (n % span);
    const sign = Number.parseInt(h.slice(8, 10), 16) % 2 === 0 ? 1 : -1;
    return sign * magnitude;
  }

  /**
   * DICOM UID replacement in the `2.25.<128-bit decimal>` form (PS3.5 B.2), stable per project.
   * With a watermark the last 16 bits are the grant's keyed check of the other 112
   * ({@link GrantWatermark.markToken}): still unique and stable, and every UID of a leaked file
   * carries 16 bits of evidence of its grant.
   */
  uid(original: string): Promise<string> {
    const key = original.trim();
    let hit = this.uids.get(key);
    if (!hit) {
      hit = this.mac('dicom-uid', key).then(async (h) => {
        const body = this.watermark ? await this.watermark.markToken(h.slice(0, 32)) : h.slice(0, 32);
        return `2.25.${BigInt(`0x${body}`).toString(10)}`;
      });
      this.uids.set(key, hit);
    }
    return hit;
  }
}
