import { isAppLocale, type AppLocale } from './runtime-config';

/** localStorage key holding the user's explicit language choice. */
export const LOCALE_STORAGE_KEY = 'mdrp.locale';

/**
 * Maps a BCP 47 tag to a supported locale: any Chinese variant → `zh-CN` (the only Chinese
 * messages we ship), any English variant → `en`, anything else → `undefined`.
 */
export function matchLocale(tag: string | null | undefined): AppLocale | undefined {
  if (!tag) return undefined;
  if (isAppLocale(tag)) return tag;
  const primary = tag.toLowerCase().split(/[-_]/)[0];
  if (primary === 'zh') return 'zh-CN';
  if (primary === 'en') return 'en';
  return undefined;
}

/**
 * Picks the UI locale. An explicit stored choice wins over the browser's languages, which win
 * over the deployment's default: users in a Chinese hospital may run an English OS but still
 * want Chinese, and the stored choice is how they say so.
 */
export function pickLocale(
  stored: string | null | undefined,
  browserLanguages: readonly string[],
  fallback: AppLocale,
): AppLocale {
  const fromStorage = matchLocale(stored);
  if (fromStorage) return fromStorage;
  for (const tag of browserLanguages) {
    const match = matchLocale(tag);
    if (match) return match;
  }
  return fallback;
}
