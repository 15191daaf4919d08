'use client';

import { useTranslations } from 'next-intl';
import { useState, type FormEvent } from 'react';
import { answerChallenge, startSignIn, type SignInStep } from '../lib/auth';
import { ErrorPanel } from './error-panel';
import { toShownError, usePortal, type ShownError } from './portal-provider';

type Stage = 'credentials' | 'newPassword' | 'totp';

/**
 * Sign-in form covering the Cognito steps the platform uses: password, forced new password
 * (accounts created by an administrator) and TOTP (MFA for sensitive roles, R-SEC-6).
 */
export function SignInPanel() {
  const t = useTranslations('signIn');
  const { onSignedIn } = usePortal();
  const [stage, setStage] = useState<Stage>('credentials');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShownError | undefined>();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [newPassword, setNewPassword] = useState('');
  const [confirmPassword, setConfirmPassword] = useState('');
  const [code, setCode] = useState('');

  async function follow(step: SignInStep): Promise<void> {
    switch (step.kind) {
      case 'done':
        await onSignedIn();
        return;
      case 'newPassword':
        setStage('newPassword');
        return;
      case 'totp':
        setCode('');
        setStage('totp');
        return;
      case 'unsupported':
        setError({ code: step.step, message: t('unsupportedStep', { step: step.step }) });
        return;
    }
  }

  async function run(action: () => Promise<SignInStep>): Promise<void> {
    setBusy(true);
    setError(undefined);
    try {
      await follow(await action());
    } catch (err) {
      setError(toShownError(err));
    } finally {
      setBusy(false);
    }
  }

  function onSubmit(e: FormEvent<HTMLFormElement>): void {
    e.preventDefault();
    if (busy) return;
    if (stage === 'credentials') {
      void run(() => startSignIn(username.trim(), password));
    } else if (stage === 'newPassword') {
      if (newPassword !== confirmPassword) {
        setError({ code: 'PASSWORD_MISMATCH', message: t('passwordsDiffer') });
        return;
      }
      void run(() => answerChallenge(newPassword));
    } else {
      void run(() => answerChallenge(code.trim()));
    }
  }

  function startOver(): void {
    setStage('credentials');
    setPassword('');
    setNewPassword('');
    setConfirmPassword('');
    setCode('');
    setError(undefined);
  }

  const title = stage === 'credentials' ? t('title') : stage === 'newPassword' ? t('newPasswordTitle') : t('totpTitle');
  const intro = stage === 'credentials' ? t('intro') : stage === 'newPassword' ? t('newPasswordIntro') : t('totpIntro');

  return (
    <section className="card sign-in" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">{title}</h1>
      <p className="muted">{intro}</p>
      <form onSubmit={onSubmit} className="form" noValidate={false}>
        {stage === 'credentials' ? (
          <>
            <Field id="username" label={t('username')} value={username} onChange={setUsername} autoComplete="username" />
            <Field
              id="password"
              label={t('password')}
              type="password"
              value={password}
              onChange={setPassword}
              autoComplete="current-password"
            />
          </>
        ) : null}
        {stage === 'newPassword' ? (
          <>
            <Field
              id="new-password"
              label={t('newPassword')}
              type="password"
              value={newPassword}
              onChange={setNewPassword}
              autoComplete="new-password"
            />
            <Field
              id="confirm-password"
              label={t('confirmPassword')}
              type="password"
              value={confirmPassword}
              onChange={setConfirmPassword}
              autoComplete="new-password"
            />
          </>
        ) : null}
        {stage === 'totp' ? (
          <Field
            id="totp-code"
            label={t('totpCode')}
            value={code}
            onChange={setCode}
            autoComplete="one-time-code"
            inputMode="numeric"
            pattern="[0-9]{6}"
          />
        ) : null}
        {error ? <ErrorPanel title={t('failed')} error={error} /> : null}
        <div className="form__actions">
          <button type="submit" className="button" disabled={busy} data-testid="sign-in-submit">
            {busy
              ? t('submitting')
              : stage === 'credentials'
                ? t('submit')
                : stage === 'newPassword'
                  ? t('savePassword')
                  : t('verify')}
          </button>
          {stage !== 'credentials' ? (
            <button type="button" className="button button--link" onClick={startOver} disabled={busy}>
              {t('startOver')}
            </button>
          ) : null}
        </div>
      </form>
    </section>
  );
}

function Field(props: {
  id: string;
  label: string;
  value: string;
  onChange(value: string): void;
  type?: string;
  autoComplete: string;
  inputMode?: 'numeric';
  pattern?: string;
}) {
  return (
    <div className="field">
      <label htmlFor={props.id} className="field__label">
        {props.label}
      </label>
      <input
        id={props.id}
        name={props.id}
        className="input"
        type={props.type ?? 'text'}
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
        autoComplete={props.autoComplete}
        inputMode={props.inputMode}
        pattern={props.pattern}
        required
        spellCheck={false}
        autoCapitalize="none"
      />
    </div>
  );
}
