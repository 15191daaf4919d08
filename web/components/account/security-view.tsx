'use client';

import { useTranslations } from 'next-intl';
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { encode } from 'uqr';
import { finishTotpSetup, startTotpSetup, totpEnabled } from '../../lib/auth';
import { ProfilePending } from '../access/access-parts';
import { ErrorPanel } from '../error-panel';
import { toShownError, usePortal, type ShownError } from '../portal-provider';

type Stage = { kind: 'loading' } | { kind: 'status'; enabled: boolean } | { kind: 'enrolling'; secret: string; uri: string };

/**
 * `/account/security/`: the signed-in user's second factor (R-SEC-6). Enrolling an authenticator
 * app (TOTP) is what lets a session pass the MFA checks of security-level 4–5 data and of the
 * security administrator's approvals: from then on every sign-in asks for a code, and the ID token
 * says so (the pool's pre-token-generation trigger). The secret is shown once, as a QR code and as
 * text, and never leaves the browser except to Cognito.
 */
export function SecurityView() {
  const t = useTranslations('security');
  const { me, reloadMe } = usePortal();
  const [stage, setStage] = useState<Stage>({ kind: 'loading' });
  const [error, setError] = useState<ShownError | undefined>();
  const [busy, setBusy] = useState(false);
  const [code, setCode] = useState('');
  const [announce, setAnnounce] = useState('');

  useEffect(() => {
    let cancelled = false;
    totpEnabled().then(
      (enabled) => !cancelled && setStage({ kind: 'status', enabled }),
      (err: unknown) => !cancelled && setError(toShownError(err)),
    );
    return () => {
      cancelled = true;
    };
  }, []);

  if (!me) return <ProfilePending />;

  async function begin(): Promise<void> {
    setBusy(true);
    setError(undefined);
    try {
      const setup = await startTotpSetup('MDRP', me!.username);
      setCode('');
      setStage({ kind: 'enrolling', ...setup });
    } catch (err) {
      setError(toShownError(err));
    } finally {
      setBusy(false);
    }
  }

  async function confirm(e: FormEvent<HTMLFormElement>): Promise<void> {
    e.preventDefault();
    if (busy) return;
    if (!/^\d{6}$/.test(code.trim())) {
      setError({ code: 'INVALID_CODE', message: t('codeFormat') });
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await finishTotpSetup(code.trim(), t('deviceName'));
      await reloadMe();
      setStage({ kind: 'status', enabled: true });
      setAnnounce(t('enabledNow'));
    } catch (err) {
      setError(toShownError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="stack">
      <div className="page-head">
        <div>
          <h1>{t('pageTitle')}</h1>
          <p className="muted">{t('intro')}</p>
        </div>
      </div>
      <p className="visually-hidden" role="status" aria-live="polite">
        {announce}
      </p>
      <section className="card" aria-labelledby="mfa-status-title">
        <h2 id="mfa-status-title">{t('statusTitle')}</h2>
        <dl className="facts">
          <div className="facts__row">
            <dt>{t('factor')}</dt>
            <dd data-testid="totp-status">{stage.kind === 'loading' ? '…' : stage.kind === 'status' && stage.enabled ? t('factorOn') : t('factorOff')}</dd>
          </div>
          <div className="facts__row">
            <dt>{t('session')}</dt>
            <dd data-testid="session-mfa">{me.mfaEnabled ? t('sessionVerified') : t('sessionNotVerified')}</dd>
          </div>
        </dl>
        {stage.kind === 'status' && !stage.enabled ? (
          <div className="form__actions">
            <button type="button" className="button" onClick={() => void begin()} disabled={busy} data-testid="totp-begin">
              {busy ? t('working') : t('begin')}
            </button>
          </div>
        ) : null}
        {stage.kind === 'status' && stage.enabled ? <p className="muted">{t('enabledHint')}</p> : null}
      </section>
      {stage.kind === 'enrolling' ? (
        <section className="card" aria-labelledby="totp-setup-title">
          <h2 id="totp-setup-title">{t('setupTitle')}</h2>
          <ol>
            <li>{t('stepScan')}</li>
            <li>{t('stepEnter')}</li>
          </ol>
          <QrCode text={stage.uri} label={t('qrLabel')} />
          <p>
            {t('secretLabel')}: <code data-testid="totp-secret">{stage.secret.replace(/(.{4})/g, '$1 ').trim()}</code>
          </p>
          <form className="form" onSubmit={(e) => void confirm(e)}>
            <div className="field">
              <label htmlFor="totp-setup-code" className="field__label">
                {t('codeLabel')}
              </label>
              <input
                id="totp-setup-code"
                className="input input--short"
                spellCheck={false}
                value={code}
                onChange={(e) => setCode(e.target.value)}
                autoComplete="one-time-code"
                inputMode="numeric"
                pattern="[0-9]{6}"
                maxLength={6}
                required
              />
            </div>
            <div className="form__actions">
              <button type="submit" className="button" disabled={busy} data-testid="totp-confirm">
                {busy ? t('working') : t('confirm')}
              </button>
              <button type="button" className="button button--link" disabled={busy} onClick={() => setStage({ kind: 'status', enabled: false })}>
                {t('cancel')}
              </button>
            </div>
          </form>
        </section>
      ) : null}
      {error ? <ErrorPanel title={t('failed')} error={error} /> : null}
    </div>
  );
}

/** The `otpauth://` URI as an SVG QR code (drawn from the module matrix: no inline script or style). */
function QrCode({ text, label }: { text: string; label: string }) {
  const qr = useMemo(() => encode(text, { ecc: 'M', border: 2 }), [text]);
  const path = useMemo(
    () =>
      qr.data
        .flatMap((row, y) => row.map((dark, x) => (dark ? `M${x} ${y}h1v1h-1z` : '')))
        .join(''),
    [qr],
  );
  return (
    <svg className="qr-code" role="img" aria-label={label} data-testid="totp-qr" viewBox={`0 0 ${qr.size} ${qr.size}`} width={Math.max(200, qr.size * 5)} height={Math.max(200, qr.size * 5)} shapeRendering="crispEdges">
      <rect width={qr.size} height={qr.size} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
}
