'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useTranslations } from 'next-intl';
import { useId, useState, type ReactNode } from 'react';
import { areasForRoles } from '../lib/roles';
import { SUPPORTED_LOCALES, isAppLocale } from '../lib/runtime-config';
import { usePortal } from './portal-provider';

/** Names of the languages in their own language, so anyone can find theirs. */
const LOCALE_NAMES: Record<string, string> = { 'zh-CN': '中文', en: 'English' };

/**
 * Page frame: skip link, header with product name, role-filtered navigation, language switch
 * and user menu, then the page content in `<main>`.
 */
export function AppShell({ children }: { children: ReactNode }) {
  const t = useTranslations();
  const { me, authStatus } = usePortal();
  const pathname = usePathname() ?? '/';
  const areas = authStatus === 'signedIn' ? areasForRoles(me?.roles ?? []) : [];

  return (
    <>
      <a className="skip-link" href="#main">
        {t('app.skipToContent')}
      </a>
      <header className="header">
        <div className="header__inner">
          <Link href="/" className="brand" aria-label={`${t('app.name')} — ${t('app.fullName')}`}>
            <span className="brand__mark" aria-hidden="true">
              {t('app.name')}
            </span>
            <span className="brand__text">
              <span className="brand__full">{t('app.fullName')}</span>
              <span className="brand__sub">{t('app.portal')}</span>
            </span>
          </Link>
          <div className="header__tools">
            <LanguageSwitch />
            {authStatus === 'signedIn' ? <UserMenu /> : null}
          </div>
        </div>
        {areas.length > 0 ? (
          <nav className="nav" aria-label={t('nav.mainLabel')}>
            <ul className="nav__list">
              {areas.map((area) => {
                const current = area.href === '/' ? pathname === '/' : pathname.startsWith(area.href);
                return (
                  <li key={area.id}>
                    <Link
                      href={area.href}
                      className="nav__link"
                      aria-current={current ? 'page' : undefined}
                      data-testid={`nav-${area.id}`}
                    >
                      {t(`nav.${area.id}`)}
                    </Link>
                  </li>
                );
              })}
            </ul>
          </nav>
        ) : null}
      </header>
      <main id="main" className="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

function LanguageSwitch() {
  const t = useTranslations('header');
  const { locale, setLocale } = usePortal();
  const id = useId();
  return (
    <div className="lang-switch">
      <label htmlFor={id} className="lang-switch__label">
        {t('language')}
      </label>
      <select
        id={id}
        className="select"
        data-testid="locale-select"
        value={locale}
        onChange={(e) => {
          if (isAppLocale(e.target.value)) setLocale(e.target.value);
        }}
      >
        {SUPPORTED_LOCALES.map((l) => (
          <option key={l} value={l} lang={l}>
            {LOCALE_NAMES[l] ?? l}
          </option>
        ))}
      </select>
    </div>
  );
}

function UserMenu() {
  const t = useTranslations('header');
  const { me, signOut } = usePortal();
  const [busy, setBusy] = useState(false);
  const name = me?.displayName ?? me?.username ?? '…';
  return (
    <details className="user-menu">
      <summary className="user-menu__summary" data-testid="user-menu" aria-label={`${t('userMenu')}: ${name}`}>
        <span className="user-menu__avatar" aria-hidden="true">
          {name.slice(0, 1)}
        </span>
        <span className="user-menu__name">{name}</span>
      </summary>
      <div className="user-menu__panel">
        <p className="user-menu__who">{t('signedInAs', { name })}</p>
        {me?.institution ? <p className="user-menu__inst">{me.institution}</p> : null}
        <p>
          {/* Closes the menu: a <details> stays open across client-side navigation. */}
          <Link href="/account/security/" data-testid="account-security" onClick={(e) => e.currentTarget.closest('details')?.removeAttribute('open')}>
            {t('security')}
          </Link>
        </p>
        <button
          type="button"
          className="button button--secondary"
          data-testid="sign-out"
          disabled={busy}
          onClick={() => {
            setBusy(true);
            void signOut().finally(() => setBusy(false));
          }}
        >
          {busy ? t('signingOut') : t('signOut')}
        </button>
      </div>
    </details>
  );
}
