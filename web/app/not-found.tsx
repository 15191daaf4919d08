'use client';

import Link from 'next/link';
import { useTranslations } from 'next-intl';

/** 404 page; exported as `404.html`, which the portal server and CloudFront serve for unknown paths. */
export default function NotFound() {
  const t = useTranslations('notFound');
  return (
    <section className="card" aria-labelledby="not-found-title">
      <h1 id="not-found-title">{t('title')}</h1>
      <p>{t('body')}</p>
      <p>
        <Link href="/" className="button button--secondary">
          {t('home')}
        </Link>
      </p>
    </section>
  );
}
