import { describe, expect, it } from 'vitest';
import en from '../../../web/messages/en.json' with { type: 'json' };
import zh from '../../../web/messages/zh-CN.json' with { type: 'json' };
import { ROLES, TASKS_BY_ROLE, AREAS } from '../../../web/lib/roles';

/** Flattens nested message objects to dotted keys. */
function keys(obj: unknown, prefix = ''): string[] {
  if (typeof obj !== 'object' || obj === null) return [prefix];
  return Object.entries(obj).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k));
}

function lookup(obj: unknown, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);
}

/** ICU placeholders such as `{name}` or `{count, plural, ...}` (argument names only). */
function placeholders(message: string): string[] {
  return [...message.matchAll(/\{\s*([a-zA-Z_][\w]*)\s*[,}]/g)].map((m) => m[1]!).sort();
}

describe('portal messages (i18n coverage)', () => {
  it('zh-CN and en have exactly the same keys', () => {
    expect(keys(en).sort()).toEqual(keys(zh).sort());
  });

  it('no message is empty and placeholders match across locales', () => {
    for (const key of keys(zh)) {
      const zhMsg = lookup(zh, key);
      const enMsg = lookup(en, key);
      expect(typeof zhMsg, key).toBe('string');
      expect((zhMsg as string).trim(), key).not.toBe('');
      expect((enMsg as string).trim(), key).not.toBe('');
      expect([...new Set(placeholders(enMsg as string))], key).toEqual([...new Set(placeholders(zhMsg as string))]);
    }
  });

  it('every role, task and navigation area has a label', () => {
    for (const locale of [zh, en]) {
      for (const role of ROLES) expect(lookup(locale, `roles.${role}`), role).toBeTypeOf('string');
      for (const tasks of Object.values(TASKS_BY_ROLE)) {
        for (const task of tasks) {
          expect(lookup(locale, `tasks.${task.id}.title`), task.id).toBeTypeOf('string');
          expect(lookup(locale, `tasks.${task.id}.description`), task.id).toBeTypeOf('string');
        }
      }
      for (const area of AREAS) expect(lookup(locale, `nav.${area.id}`), area.id).toBeTypeOf('string');
      for (const level of [1, 2, 3, 4, 5]) expect(lookup(locale, `levels.${level}`)).toBeTypeOf('string');
    }
  });
});
