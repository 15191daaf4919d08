import { randomBytes } from 'node:crypto';
import type { IdGenerator } from '../../core/ports/id-generator';

/** Time-ordered random ids: `<prefix>_<ms base36><80 random bits hex>`; sortable by creation. */
export class RandomIdGenerator implements IdGenerator {
  next(prefix: string): string {
    return `${prefix}_${Date.now().toString(36).padStart(9, '0')}${randomBytes(10).toString('hex')}`;
  }
}
