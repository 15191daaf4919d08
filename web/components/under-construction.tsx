'use client';

import Link from 'next/link';
import { useTranslations } from 'next-intl';
import type { AreaId } from '../lib/roles';
import { RequireSignIn } from './require-sign-in';

/**
 * Placeholder for an area whose pages are not built yet. It says so plainly instead of
 * showing sample data, so nobody mistakes it for real records.
 */
export function UnderConstruction({ area }: { area: AreaId }) {
  const t = useTranslations();
  return (
    <RequireSignIn>
      <section className="card" aria-labelledby="building-title">
        <h1 id="building-title">{t('building.title', { area: t(`nav.${area}`) })}</h1>
        <p>{t('building.body')}</p>
        <p>
          <Link href="/" className="button button--secondary">
            {t('building.backHome')}
          </Link>
        </p>
      </section>
    </RequireSignIn>
  );
}
