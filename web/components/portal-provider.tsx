'use client';

import { NextIntlClientProvider, useTranslations } from 'next-intl';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import enMessages from '../messages/en.json';
import zhMessages from '../messages/zh-CN.json';
import { ErrorPanel } from './error-panel';
import { ApiClient, ApiError, type Me } from '../lib/api-client';
import { configureAuth, currentIdToken, describeAuthError, endSession, hasSession } from '../lib/auth';
import { LOCALE_STORAGE_KEY, pickLocale } from '../lib/locale';
import { loadRuntimeConfig, type AppLocale, type RuntimeConfig } from '../lib/runtime-config';

const MESSAGES: Record<AppLocale, typeof zhMessages> = { 'zh-CN': zhMessages, en: enMessages };

/** Sign-in state as far as the browser knows. */
export type AuthStatus = 'unknown' | 'signedOut' | 'signedIn';

/** A failure shown to the user with a message and a code (never a blank page). */
export interface ShownError {
  code: string;
  message: string;
}

/** Everything portal pages need from the shell. */
export interface PortalContextValue {
  config: RuntimeConfig;
  locale: AppLocale;
  setLocale(locale: AppLocale): void;
  authStatus: AuthStatus;
  /** The `/v1/me` profile once loaded. */
  me: Me | undefined;
  /** Why `/v1/me` failed, if it did. */
  meError: ShownError | undefined;
  /** Expiry of the current ID token, shown so users know when they will be asked to sign in again. */
  sessionExpiresAt: Date | undefined;
  api: ApiClient;
  /** Called by the sign-in form once Cognito says DONE. */
  onSignedIn(): Promise<void>;
  signOut(): Promise<void>;
  reloadMe(): Promise<void>;
}

const PortalContext = createContext<PortalContextValue | undefined>(undefined);

/** Access to the portal context; only valid below {@link PortalProvider}. */
export function usePortal(): PortalContextValue {
  const value = useContext(PortalContext);
  if (!value) throw new Error('usePortal() used outside <PortalProvider>');
  return value;
}

/** Converts any thrown value into something the UI can show. */
export function toShownError(err: unknown): ShownError {
  // R-SEC-6: an MFA denial gets its own code so the error panel can explain what to do.
  if (err instanceof ApiError) return { code: (err.details as { reason?: unknown } | undefined)?.reason === 'MFA_REQUIRED' ? 'MFA_REQUIRED' : err.code, message: err.message };
  return describeAuthError(err);
}

function readStoredLocale(): string | null {
  try {
    return window.localStorage.getItem(LOCALE_STORAGE_KEY);
  } catch {
    // Storage can be disabled by policy; fall back to the browser's languages.
    return null;
  }
}

/**
 * Root client provider: loads `/mdrp-config.json`, configures Amplify, restores the session,
 * picks the locale and exposes the API client.
 *
 * Everything happens after mount because the export is prerendered once for all users: the
 * prerendered HTML only holds a neutral, bilingual loading state, so hydration never mismatches.
 */
export function PortalProvider({ children }: { children: ReactNode }) {
  const [config, setConfig] = useState<RuntimeConfig | undefined>();
  const [configError, setConfigError] = useState<ShownError | undefined>();
  const [locale, setLocaleState] = useState<AppLocale | undefined>();
  const [authStatus, setAuthStatus] = useState<AuthStatus>('unknown');
  const [me, setMe] = useState<Me | undefined>();
  const [meError, setMeError] = useState<ShownError | undefined>();
  const [sessionExpiresAt, setSessionExpiresAt] = useState<Date | undefined>();
  const [bootAttempt, setBootAttempt] = useState(0);

  const api = useMemo(
    () =>
      new ApiClient(config ?? { apiUrl: '' }, async () => {
        const current = await currentIdToken();
        if (current) setSessionExpiresAt(current.expiresAt);
        return current?.token;
      }),
    [config],
  );

  const loadMe = useCallback(async () => {
    setMeError(undefined);
    try {
      setMe(await api.me());
    } catch (err) {
      setMe(undefined);
      setMeError(toShownError(err));
    }
  }, [api]);

  useEffect(() => {
    let cancelled = false;
    setConfigError(undefined);
    // Show the user's language even if the config fails to load.
    setLocaleState((prev) => prev ?? pickLocale(readStoredLocale(), navigator.languages ?? [], 'zh-CN'));
    loadRuntimeConfig()
      .then(async (loaded) => {
        if (cancelled) return;
        configureAuth(loaded);
        setLocaleState(pickLocale(readStoredLocale(), navigator.languages ?? [], loaded.defaultLocale));
        setConfig(loaded);
        setAuthStatus((await hasSession()) ? 'signedIn' : 'signedOut');
      })
      .catch((err: unknown) => {
        if (!cancelled) setConfigError({ code: 'CONFIG_UNAVAILABLE', message: toShownError(err).message });
      });
    return () => {
      cancelled = true;
    };
  }, [bootAttempt]);

  useEffect(() => {
    if (authStatus === 'signedIn' && config) void loadMe();
  }, [authStatus, config, loadMe]);

  useEffect(() => {
    if (locale) document.documentElement.lang = locale;
  }, [locale]);

  const setLocale = useCallback((next: AppLocale) => {
    setLocaleState(next);
    try {
      window.localStorage.setItem(LOCALE_STORAGE_KEY, next);
    } catch {
      // Not persisting the choice is acceptable; the switch still applies to this page view.
    }
  }, []);

  const onSignedIn = useCallback(async () => {
    setAuthStatus('signedIn');
  }, []);

  const signOut = useCallback(async () => {
    try {
      await endSession();
    } finally {
      setMe(undefined);
      setMeError(undefined);
      setSessionExpiresAt(undefined);
      setAuthStatus('signedOut');
    }
  }, []);

  if (!locale) return <BootScreen />;

  const messages = MESSAGES[locale];
  const timeZone = config?.institutionTimeZone ?? 'Asia/Shanghai';

  return (
    <NextIntlClientProvider locale={locale} messages={messages} timeZone={timeZone}>
      {configError ? (
        <ConfigErrorScreen error={configError} onRetry={() => setBootAttempt((n) => n + 1)} />
      ) : !config ? (
        <BootScreen />
      ) : (
        <PortalContext.Provider
          value={{
            config,
            locale,
            setLocale,
            authStatus,
            me,
            meError,
            sessionExpiresAt,
            api,
            onSignedIn,
            signOut,
            reloadMe: loadMe,
          }}
        >
          {children}
        </PortalContext.Provider>
      )}
    </NextIntlClientProvider>
  );
}

/** Neutral loading screen used before the locale is known (hence bilingual). */
function BootScreen() {
  return (
    <main className="boot" aria-busy="true">
      <p className="boot__brand">MDRP</p>
      <p role="status">正在加载… / Loading…</p>
    </main>
  );
}

function ConfigErrorScreen({ error, onRetry }: { error: ShownError; onRetry(): void }) {
  return (
    <main className="boot">
      <p className="boot__brand">MDRP</p>
      <ConfigErrorBody error={error} onRetry={onRetry} />
    </main>
  );
}

// Separate component so it can use translations (it renders inside NextIntlClientProvider).
function ConfigErrorBody({ error, onRetry }: { error: ShownError; onRetry(): void }) {
  const t = useTranslations('errors');
  return <ErrorPanel title={t('configTitle')} error={error} onRetry={onRetry} />;
}
