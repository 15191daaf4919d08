'use client';

import { useTranslations } from 'next-intl';
import { useCallback, useEffect, useRef, useState } from 'react';
import { changePolicy, getPolicySet, listPolicyVersions, policyMessages, rollbackPolicies, type PolicySet, type PolicyVersion } from '../../lib/governance-api';
import { useDateTime } from '../access/access-parts';
import { ErrorPanel } from '../error-panel';
import { toShownError, usePortal, type ShownError } from '../portal-provider';

/**
 * `/policies/` (R-GOV-7): the Cedar policy set in force, its version history, and — for security
 * admins — a change to one file (validated against the schema and the locked policies before it
 * is stored) or a rollback to an earlier version. Auditors read only.
 */
export function PolicyConsole() {
  const t = useTranslations('policies');
  const when = useDateTime();
  const { api, me } = usePortal();
  const canManage = Boolean(me?.roles.includes('security-admin'));
  const [set, setSet] = useState<PolicySet | undefined>();
  const [versions, setVersions] = useState<PolicyVersion[] | undefined>();
  const [error, setError] = useState<ShownError | undefined>();
  const [file, setFile] = useState<string>('');
  const [text, setText] = useState('');
  const [reason, setReason] = useState('');
  const [messages, setMessages] = useState<string[] | undefined>();
  const [status, setStatus] = useState('');
  const [busy, setBusy] = useState(false);
  // The file in view survives reloads after a change or rollback (read through a ref: `load` is stable).
  const fileRef = useRef(file);
  useEffect(() => {
    fileRef.current = file;
  }, [file]);

  const load = useCallback(async () => {
    setError(undefined);
    try {
      const [s, v] = await Promise.all([getPolicySet(api), listPolicyVersions(api)]);
      setSet(s);
      setVersions(v.items);
      const current = s.files.find((f) => f.file === fileRef.current) ?? s.files[0];
      if (current) {
        setFile(current.file);
        setText(current.text);
      }
    } catch (err) {
      setError(toShownError(err));
    }
  }, [api]);
  useEffect(() => void load(), [load]);

  const selectFile = (name: string) => {
    setFile(name);
    setText(set?.files.find((f) => f.file === name)?.text ?? '');
    setMessages(undefined);
  };

  async function submit(dryRun: boolean) {
    if (busy || !set) return;
    if (!dryRun && reason.trim().length < 5) {
      setMessages([t('reasonNeeded')]);
      return;
    }
    setBusy(true);
    setMessages(undefined);
    setStatus('');
    try {
      const out = await changePolicy(api, { file, text, reason: reason.trim() || 'validation only', baseVersion: set.version.number, dryRun });
      if (dryRun) {
        setMessages(out.valid ? [] : out.messages);
        setStatus(out.valid ? t('valid') : '');
      } else {
        setStatus(t('saved', { number: out.version?.number ?? 0 }));
        setReason('');
        await load();
      }
    } catch (err) {
      const m = policyMessages(err);
      if (m) setMessages(m);
      else setError(toShownError(err));
    } finally {
      setBusy(false);
    }
  }

  async function rollback(to: number) {
    if (busy) return;
    if (reason.trim().length < 5) {
      setMessages([t('reasonNeeded')]);
      return;
    }
    setBusy(true);
    setMessages(undefined);
    try {
      const v = await rollbackPolicies(api, { toVersion: to, reason: reason.trim() });
      setStatus(t('rolledBack', { number: v.number, to }));
      setReason('');
      await load();
    } catch (err) {
      setError(toShownError(err));
    } finally {
      setBusy(false);
    }
  }

  if (error) return <ErrorPanel error={error} onRetry={() => void load()} />;
  if (!set || !versions) {
    return (
      <p role="status" className="muted">
        {t('loading')}
      </p>
    );
  }
  const currentFile = set.files.find((f) => f.file === file);
  return (
    <div className="stack">
      <h1>{t('title')}</h1>
      <p className="muted">{t('intro')}</p>
      <p role="status" aria-live="polite" data-testid="policy-status">
        {status}
      </p>
      <section className="card" aria-labelledby="pol-current">
        <h2 id="pol-current">{t('current')}</h2>
        <p data-testid="policy-version">
          {t('versionLine', { number: set.version.number, label: set.loadedVersion, at: when(set.version.at), author: set.version.authorName ?? set.version.authorId })}
        </p>
        <p className="muted small">{t('locked', { ids: set.locked.join(', ') })}</p>
      </section>

      <section className="card" aria-labelledby="pol-files">
        <h2 id="pol-files">{t('files')}</h2>
        <div className="field">
          <label htmlFor="pol-file" className="field__label">
            {t('file')}
          </label>
          <select id="pol-file" className="input" value={file} onChange={(e) => selectFile(e.target.value)}>
            {set.files.map((f) => (
              <option key={f.file} value={f.file}>
                {f.file}
                {f.overridden ? ` (${t('changed')})` : ''}
              </option>
            ))}
          </select>
          {currentFile ? <p className="field__hint">{t('policyIds', { ids: currentFile.policyIds.join(', ') })}</p> : null}
        </div>
        <div className="field">
          <label htmlFor="pol-text" className="field__label">
            {t('text')}
          </label>
          <textarea id="pol-text" className="input textarea mono" rows={18} value={text} onChange={(e) => setText(e.target.value)} readOnly={!canManage} spellCheck={false} data-testid="policy-text" />
        </div>
        {messages && messages.length > 0 ? (
          <div className="notice notice--error" role="alert" data-testid="policy-messages">
            <p className="notice__title">{t('invalid')}</p>
            <ul>
              {messages.map((m, i) => (
                <li key={i} className="mono small">
                  {m}
                </li>
              ))}
            </ul>
          </div>
        ) : null}
        {canManage ? (
          <>
            <div className="field">
              <label htmlFor="pol-reason" className="field__label">
                {t('reason')}
              </label>
              <input id="pol-reason" className="input" value={reason} onChange={(e) => setReason(e.target.value)} data-testid="policy-reason" />
            </div>
            <div className="form__actions">
              <button type="button" className="button button--secondary" disabled={busy} onClick={() => void submit(true)} data-testid="policy-validate">
                {t('validate')}
              </button>
              <button type="button" className="button" disabled={busy} onClick={() => void submit(false)} data-testid="policy-save">
                {t('save')}
              </button>
            </div>
          </>
        ) : null}
      </section>

      <section className="card" aria-labelledby="pol-history">
        <h2 id="pol-history">{t('history')}</h2>
        <div className="table-wrap" role="region" aria-labelledby="pol-history" tabIndex={0}>
          <table className="table" data-testid="policy-versions">
            <caption className="visually-hidden">{t('history')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('columns.version')}</th>
                <th scope="col">{t('columns.change')}</th>
                <th scope="col">{t('columns.who')}</th>
                <th scope="col">{t('columns.why')}</th>
                {canManage ? <th scope="col">{t('columns.actions')}</th> : null}
              </tr>
            </thead>
            <tbody>
              {versions.map((v) => (
                <tr key={v.number}>
                  <th scope="row" className="mono">
                    v{v.number}
                  </th>
                  <td>
                    {t(`actions.${v.action}`, { file: v.changedFile ?? '', to: v.rolledBackTo ?? 0 })}
                    <span className="table__desc mono small">{v.sha256.slice(0, 12)}…</span>
                  </td>
                  <td className="nowrap">
                    {v.authorName ?? v.authorId}
                    <span className="table__desc">{v.number === 0 ? '—' : when(v.at)}</span>
                  </td>
                  <td>{v.reason}</td>
                  {canManage ? (
                    <td>
                      {v.number !== set.version.number ? (
                        <button type="button" className="button button--secondary button--small" disabled={busy} onClick={() => void rollback(v.number)}>
                          {t('rollback', { number: v.number })}
                        </button>
                      ) : (
                        <span className="badge">{t('inForce')}</span>
                      )}
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {canManage ? <p className="muted small">{t('rollbackHint')}</p> : null}
      </section>
    </div>
  );
}
