'use client';

import { useTranslations } from 'next-intl';
import { useEffect, useRef, useState } from 'react';

/**
 * A button that copies a full pseudonym to the clipboard and says so (visibly and to screen
 * readers). Pseudonyms are long; tables show them shortened.
 */
export function CopyButton({ value, label }: { value: string; label: string }) {
  const t = useTranslations('research');
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);

  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
      setState('copied');
    } catch {
      // Clipboard access can be refused (permissions, insecure context): say so instead of failing silently.
      setState('failed');
    }
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setState('idle'), 2500);
  }

  return (
    <>
      <button type="button" className="button button--secondary button--icon" onClick={() => void copy()} aria-label={label} title={label} data-testid="copy-token">
        <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" focusable="false">
          <rect x="5" y="5" width="9" height="9" rx="1.5" fill="none" stroke="currentColor" strokeWidth="1.5" />
          <path d="M3 11V3.5A1.5 1.5 0 0 1 4.5 2H11" fill="none" stroke="currentColor" strokeWidth="1.5" />
        </svg>
      </button>
      <span role="status" className={state === 'idle' ? 'visually-hidden' : 'copy-state'}>
        {state === 'copied' ? t('copied') : state === 'failed' ? t('copyFailed') : ''}
      </span>
    </>
  );
}

/** Translated sex of a released patient (unknown values shown as given). */
export function useSexLabel(): (sex: string) => string {
  const t = useTranslations('research.sex');
  return (sex) => (t.has(sex as 'female') ? t(sex as 'female') : sex);
}
