'use client';

import { useTranslations } from 'next-intl';
import { useState } from 'react';
import styles from './partners.module.css';

/** One secret shown once: its label, value and a copy button. */
export interface RevealedSecret {
  label: string;
  value: string;
}

/**
 * Credentials the API returns exactly once (API key, OAuth client secret, webhook signing secret):
 * shown with copy buttons and a plain "store it now" warning; dismissing it forgets them.
 */
export function SecretReveal({ title, secrets, onDismiss }: { title: string; secrets: RevealedSecret[]; onDismiss(): void }) {
  const t = useTranslations('partners.secrets');
  const [copied, setCopied] = useState<string | undefined>();

  async function copy(s: RevealedSecret) {
    try {
      await navigator.clipboard.writeText(s.value);
      setCopied(s.label);
    } catch {
      // Clipboard refused (e.g. insecure context): the value stays selectable on screen.
      setCopied(undefined);
    }
  }

  return (
    <section className={`notice stack ${styles.warning}`} aria-labelledby="secret-reveal-title" data-testid="secret-reveal">
      <h2 id="secret-reveal-title" className="notice__title">
        {title}
      </h2>
      <p role="alert" data-testid="secret-warning">
        <strong>{t('storeNow')}</strong> {t('shownOnce')}
      </p>
      <dl>
        {secrets.map((s) => (
          <div key={s.label} className={styles.secretRow}>
            <dt>{s.label}</dt>
            <dd>
              <code className={styles.secretValue} data-testid="secret-value" data-secret-label={s.label}>
                {s.value}
              </code>{' '}
              <button type="button" className="button button--secondary button--small" onClick={() => void copy(s)} aria-label={t('copyLabel', { label: s.label })}>
                {copied === s.label ? t('copied') : t('copy')}
              </button>
            </dd>
          </div>
        ))}
      </dl>
      <p aria-live="polite" className="visually-hidden">
        {copied ? t('copiedLabel', { label: copied }) : ''}
      </p>
      <p>
        <button type="button" className="button" onClick={onDismiss} data-testid="secret-dismiss">
          {t('dismiss')}
        </button>
      </p>
    </section>
  );
}
