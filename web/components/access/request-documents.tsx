'use client';

import { useTranslations } from 'next-intl';
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { DOCUMENT_KINDS, MAX_DOCUMENT_BYTES, documentTypeOf, fetchRequestDocument, groupDocuments, listRequestDocuments, uploadRequestDocument, type DocumentKind, type RequestDocument } from '../../lib/governance-api';
import { ErrorPanel } from '../error-panel';
import { toShownError, usePortal, type ShownError } from '../portal-provider';
import { useDateTime } from './access-parts';

/** Picker for documents to attach while filling in a new request (uploaded right after submitting). */
export function DocumentPicker({ value, onChange }: { value: Array<{ kind: DocumentKind; file: File }>; onChange(v: Array<{ kind: DocumentKind; file: File }>): void }) {
  const t = useTranslations('documents');
  const [kind, setKind] = useState<DocumentKind>('protocol');
  const [problem, setProblem] = useState<string | undefined>();
  const fileRef = useRef<HTMLInputElement>(null);
  return (
    <fieldset className="fieldset" data-testid="document-picker">
      <legend className="fieldset__legend">{t('title')}</legend>
      <p className="field__hint" id="ar-docs-hint">
        {t('hint', { mb: MAX_DOCUMENT_BYTES / 1024 / 1024 })}
      </p>
      <div className="field">
        <label htmlFor="ar-doc-kind" className="field__label">
          {t('kind')}
        </label>
        <select id="ar-doc-kind" className="input" value={kind} onChange={(e) => setKind(e.target.value as DocumentKind)}>
          {DOCUMENT_KINDS.map((k) => (
            <option key={k} value={k}>
              {t(`kinds.${k}`)}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="ar-doc-file" className="field__label">
          {t('file')}
        </label>
        <input
          id="ar-doc-file"
          ref={fileRef}
          type="file"
          className="input"
          accept=".pdf,.png,.jpg,.jpeg,.txt,application/pdf,image/png,image/jpeg,text/plain"
          aria-describedby={problem ? 'ar-docs-hint ar-doc-file-error' : 'ar-docs-hint'}
          aria-invalid={problem ? true : undefined}
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (!file) return;
            const p = checkFile(file);
            setProblem(p ? t(p) : undefined);
            if (!p) onChange([...value, { kind, file }]);
            if (fileRef.current) fileRef.current.value = '';
          }}
          data-testid="document-file"
        />
        {problem ? (
          <p className="field__error" id="ar-doc-file-error">
            {problem}
          </p>
        ) : null}
      </div>
      {value.length > 0 ? (
        <ul className="plain-list" data-testid="picked-documents">
          {value.map((d, i) => (
            <li key={`${d.file.name}-${i}`}>
              {t(`kinds.${d.kind}`)}: {d.file.name}{' '}
              <button type="button" className="button button--secondary button--small" onClick={() => onChange(value.filter((_, j) => j !== i))}>
                {t('remove')}
                <span className="visually-hidden"> {d.file.name}</span>
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </fieldset>
  );
}

function checkFile(file: File): string | undefined {
  if (!documentTypeOf(file.name)) return 'badType';
  if (file.size > MAX_DOCUMENT_BYTES) return 'tooLarge';
  if (file.size === 0) return 'empty';
  return undefined;
}

/**
 * R-GOV-9: a request's documents, every version of each kind, viewable inline (the applicant,
 * reviewers and auditors); the applicant adds new versions while the request is open.
 */
export function RequestDocuments({ requestId, canUpload, onUploaded }: { requestId: string; canUpload: boolean; onUploaded?(): void }) {
  const t = useTranslations('documents');
  const when = useDateTime();
  const { api, config } = usePortal();
  const [docs, setDocs] = useState<RequestDocument[] | undefined>();
  const [error, setError] = useState<ShownError | undefined>();
  const [viewing, setViewing] = useState<{ doc: RequestDocument; url: string; blob: Blob; text?: string } | undefined>();
  const [viewError, setViewError] = useState<ShownError | undefined>();
  const [picked, setPicked] = useState<Array<{ kind: DocumentKind; file: File }>>([]);
  const [busy, setBusy] = useState(false);
  const [announce, setAnnounce] = useState('');
  // Set by the request form when a document picked there could not be uploaded.
  const [formUploadFailed, setFormUploadFailed] = useState(false);
  useEffect(() => setFormUploadFailed(canUpload && new URLSearchParams(window.location.search).get('docs') === 'failed'), [canUpload]);

  const load = useCallback(() => {
    setError(undefined);
    listRequestDocuments(api, requestId)
      .then(setDocs)
      .catch((err: unknown) => setError(toShownError(err)));
  }, [api, requestId]);
  useEffect(() => load(), [load]);
  // The object URL is released when the viewer closes or changes.
  useEffect(() => () => (viewing ? URL.revokeObjectURL(viewing.url) : undefined), [viewing]);

  async function view(doc: RequestDocument) {
    setViewError(undefined);
    try {
      const blob = await fetchRequestDocument(config, requestId, doc.documentId);
      const url = URL.createObjectURL(blob);
      setViewing({ doc, url, blob, ...(doc.contentType === 'text/plain' ? { text: await blob.text() } : {}) });
    } catch (err) {
      setViewError(toShownError(err));
    }
  }

  async function onUpload(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (busy || picked.length === 0) return;
    setBusy(true);
    setError(undefined);
    try {
      for (const p of picked) await uploadRequestDocument(api, requestId, p.kind, p.file);
      setAnnounce(t('uploaded', { count: picked.length }));
      setPicked([]);
      load();
      onUploaded?.();
    } catch (err) {
      setError(toShownError(err));
    } finally {
      setBusy(false);
    }
  }

  const groups = docs ? groupDocuments(docs) : [];
  return (
    <section className="card" aria-labelledby="docs-title" data-testid="request-documents">
      <h2 id="docs-title">{t('title')}</h2>
      <p role="status" aria-live="polite" className="visually-hidden">
        {announce}
      </p>
      {formUploadFailed ? (
        <p className="notice notice--error" data-testid="documents-upload-failed">
          {t('uploadFailed')}
        </p>
      ) : null}
      {error?.code === 'NOT_FOUND' ? (
        // R-GOV-9: documents are shown to reviewers of this request's steps, not to every reviewer.
        <p className="notice" data-testid="documents-not-yours">
          {t('notYourReview')}
        </p>
      ) : error ? (
        <ErrorPanel error={error} onRetry={load} />
      ) : null}
      {!docs && !error ? (
        <p role="status" className="muted">
          {t('loading')}
        </p>
      ) : null}
      {docs && groups.length === 0 ? <p className="muted">{t('none')}</p> : null}
      {groups.length > 0 ? (
        <div className="table-wrap" role="region" aria-labelledby="docs-title" tabIndex={0}>
          <table className="table" data-testid="documents-table">
            <caption className="visually-hidden">{t('caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('columns.kind')}</th>
                <th scope="col">{t('columns.version')}</th>
                <th scope="col">{t('columns.file')}</th>
                <th scope="col">{t('columns.uploaded')}</th>
                <th scope="col">{t('columns.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {groups.flatMap((g) =>
                g.versions.map((d, i) => (
                  <tr key={d.documentId} data-document-id={d.documentId}>
                    <th scope="row">{i === 0 ? t(`kinds.${g.kind}`) : <span className="visually-hidden">{t(`kinds.${g.kind}`)}</span>}</th>
                    <td>
                      v{d.version} {i === 0 ? <span className="badge">{t('latest')}</span> : <span className="muted small">{t('superseded')}</span>}
                    </td>
                    <td>
                      {d.fileName}
                      <span className="table__desc mono small" title="SHA-256">
                        {(d.sizeBytes / 1024).toFixed(1)} KB · {d.sha256.slice(0, 12)}…
                      </span>
                    </td>
                    <td className="nowrap">
                      {when(d.uploadedAt)}
                      <span className="table__desc">{d.uploadedByName ?? d.uploadedBy}</span>
                    </td>
                    <td>
                      <button type="button" className="button button--secondary button--small" onClick={() => void view(d)} data-testid="view-document">
                        {t('view')}
                        <span className="visually-hidden">
                          {' '}
                          {d.fileName} v{d.version}
                        </span>
                      </button>
                    </td>
                  </tr>
                )),
              )}
            </tbody>
          </table>
        </div>
      ) : null}
      {viewError ? <ErrorPanel error={viewError} /> : null}
      {viewing ? (
        <figure className="document-viewer" data-testid="document-viewer">
          <figcaption className="section-head">
            <span>
              {viewing.doc.fileName} · v{viewing.doc.version}
            </span>
            <button type="button" className="button button--secondary button--small" onClick={() => setViewing(undefined)}>
              {t('close')}
            </button>
          </figcaption>
          {viewing.text !== undefined ? (
            <pre className="prewrap document-viewer__text">{viewing.text}</pre>
          ) : viewing.doc.contentType.startsWith('image/') ? (
            <img src={viewing.url} alt={viewing.doc.fileName} style={{ maxWidth: '100%' }} />
          ) : (
            <PdfPages blob={viewing.blob} fileName={viewing.doc.fileName} />
          )}
        </figure>
      ) : null}
      {canUpload ? (
        <form className="form" onSubmit={(e) => void onUpload(e)} noValidate data-testid="document-upload">
          <DocumentPicker value={picked} onChange={setPicked} />
          <div className="form__actions">
            <button type="submit" className="button" disabled={busy || picked.length === 0} data-testid="upload-documents">
              {busy ? t('uploading') : t('upload')}
            </button>
          </div>
        </form>
      ) : null}
    </section>
  );
}

type PdfJsModule = typeof import('pdfjs-dist');
let pdfjs: Promise<PdfJsModule> | undefined;

/** pdf.js, loaded on first use, with its worker bundled from node_modules (no CDN). */
function loadPdfJs(): Promise<PdfJsModule> {
  pdfjs ??= import('pdfjs-dist').then((lib) => {
    if (!lib.GlobalWorkerOptions.workerPort) lib.GlobalWorkerOptions.workerPort = new Worker(new URL('pdfjs-dist/build/pdf.worker.min.mjs', import.meta.url), { type: 'module' });
    return lib;
  });
  return pdfjs;
}

/**
 * A PDF drawn into canvases in the page (the portal's CSP allows no frames or plugins, and the
 * document is shown, not handed to the browser's downloader: R-GOV-9 copy control).
 */
function PdfPages({ blob, fileName }: { blob: Blob; fileName: string }) {
  const t = useTranslations('documents');
  const host = useRef<HTMLDivElement>(null);
  const [pages, setPages] = useState(0);
  const [renderError, setRenderError] = useState<ShownError | undefined>();
  useEffect(() => {
    let cancelled = false;
    let destroy: (() => Promise<void>) | undefined;
    void (async () => {
      try {
        const lib = await loadPdfJs();
        // The bytes come from the Blob itself: the CSP's connect-src does not allow fetching blob: URLs.
        const data = new Uint8Array(await blob.arrayBuffer());
        const doc = await lib.getDocument({ data, isEvalSupported: false, disableFontFace: true }).promise;
        destroy = () => doc.destroy();
        const el = host.current;
        if (cancelled || !el) return;
        el.replaceChildren();
        for (let n = 1; n <= doc.numPages && !cancelled; n++) {
          const page = await doc.getPage(n);
          const base = page.getViewport({ scale: 1 });
          const viewport = page.getViewport({ scale: Math.min(2, (el.clientWidth || 640) / base.width) * (window.devicePixelRatio || 1) });
          const canvas = document.createElement('canvas');
          canvas.width = Math.ceil(viewport.width);
          canvas.height = Math.ceil(viewport.height);
          canvas.style.maxWidth = '100%';
          canvas.setAttribute('role', 'img');
          canvas.setAttribute('aria-label', t('pdfPage', { name: fileName, page: n, pages: doc.numPages }));
          el.appendChild(canvas);
          await page.render({ canvas, canvasContext: canvas.getContext('2d')!, viewport }).promise;
        }
        if (!cancelled) setPages(doc.numPages);
      } catch (err) {
        if (!cancelled) setRenderError(toShownError(err));
      }
    })();
    return () => {
      cancelled = true;
      void destroy?.();
    };
  }, [blob, fileName, t]);
  return (
    <div data-testid="document-pdf" data-pages={pages}>
      {renderError ? <ErrorPanel error={renderError} /> : null}
      <div ref={host} className="stack" />
    </div>
  );
}
