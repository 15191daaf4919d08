'use client';

import { useTranslations } from 'next-intl';
import { useEffect, useId, useRef, useState } from 'react';
import { fetchPreview, previewPath, type PreviewResponse } from '../../lib/timeline-api';
import { toShownError, usePortal, type ShownError } from '../portal-provider';

/** A released file as the patient API lists it on an event (grant-scoped id, kind, scrubbed title). */
export interface ReleasedFile {
  fileId: string;
  kind: 'dicom' | 'pdf' | 'image' | 'text';
  title: { zh: string; en: string };
}

interface Where {
  grantId: string;
  token: string;
}

/**
 * The files of one timeline event, viewable in place (R-ANA-2): every preview is a de-identified
 * rendition streamed by the API after a grant check, drawn in the page (pdf.js canvases, a DICOM
 * frame with window/level, an image with zoom). There is deliberately no download control, and
 * nothing is cached (`no-store`); blobs are released when the viewer closes.
 */
export function EventFiles({ files, grantId, token, locale }: Where & { files: ReleasedFile[]; locale: string }) {
  const t = useTranslations('preview');
  const [selected, setSelected] = useState<string | undefined>(files[0]?.fileId);
  const current = files.find((f) => f.fileId === selected);
  const title = (f: ReleasedFile) => (locale.startsWith('zh') ? f.title.zh : f.title.en) || f.title.en || f.title.zh;
  if (files.length === 0) return null;
  return (
    <section className="pv" aria-labelledby="pv-title" data-testid="event-files">
      <h3 id="pv-title" className="pv__title">
        {t('title', { count: files.length })}
      </h3>
      <ul className="pv__list" role="list">
        {files.map((f) => (
          <li key={f.fileId}>
            <button type="button" className="button button--secondary pv__file" aria-pressed={f.fileId === selected} onClick={() => setSelected(f.fileId)} data-testid="preview-file" data-kind={f.kind}>
              <span className="badge">{t(`kinds.${f.kind}`)}</span> <span className="pv__name">{title(f)}</span>
            </button>
          </li>
        ))}
      </ul>
      {current ? (
        <div className="pv__viewer" key={current.fileId}>
          {current.kind === 'pdf' ? <PdfPreview grantId={grantId} token={token} file={current} /> : null}
          {current.kind === 'dicom' ? <DicomPreview grantId={grantId} token={token} file={current} /> : null}
          {current.kind === 'image' ? <ImagePreview grantId={grantId} token={token} file={current} label={title(current)} /> : null}
          {current.kind === 'text' ? <TextPreview grantId={grantId} token={token} file={current} /> : null}
        </div>
      ) : null}
    </section>
  );
}

/** Fetches a preview once per `path`; aborted when the viewer goes away. */
function usePreview(path: string | undefined, accept: string): { data?: PreviewResponse; error?: ShownError; loading: boolean } {
  const { config } = usePortal();
  const [state, setState] = useState<{ data?: PreviewResponse; error?: ShownError; loading: boolean }>({ loading: true });
  useEffect(() => {
    if (!path) return;
    const ctl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    fetchPreview(config.apiUrl, path, accept, ctl.signal)
      .then((data) => setState({ data, loading: false }))
      .catch((err: unknown) => {
        if (!ctl.signal.aborted) setState({ error: toShownError(err), loading: false });
      });
    return () => ctl.abort();
  }, [config.apiUrl, path, accept]);
  return state;
}

function Status({ loading, error }: { loading: boolean; error?: ShownError }) {
  const t = useTranslations('preview');
  if (error) {
    return (
      <p className="notice notice--error" role="alert" data-testid="preview-error">
        {t('failed')} ({error.code})
      </p>
    );
  }
  return loading ? (
    <p role="status" className="muted small">
      {t('loading')}
    </p>
  ) : null;
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

function PdfPreview({ grantId, token, file }: Where & { file: ReleasedFile }) {
  const t = useTranslations('preview');
  const { data, error, loading } = usePreview(previewPath(grantId, token, file.fileId), 'application/pdf');
  const host = useRef<HTMLDivElement>(null);
  const [pages, setPages] = useState(0);
  const [renderError, setRenderError] = useState<ShownError | undefined>();
  useEffect(() => {
    if (!data) return;
    let cancelled = false;
    let destroy: (() => Promise<void>) | undefined;
    void (async () => {
      try {
        const lib = await loadPdfJs();
        const doc = await lib.getDocument({ data: new Uint8Array(await data.blob.arrayBuffer()), isEvalSupported: false, disableFontFace: true }).promise;
        destroy = () => doc.destroy();
        if (cancelled) return;
        const el = host.current;
        if (!el) return;
        el.replaceChildren();
        for (let n = 1; n <= doc.numPages && !cancelled; n++) {
          const page = await doc.getPage(n);
          const base = page.getViewport({ scale: 1 });
          const scale = Math.min(2, (el.clientWidth || 520) / base.width) * (window.devicePixelRatio || 1);
          const viewport = page.getViewport({ scale });
          const canvas = document.createElement('canvas');
          canvas.width = Math.ceil(viewport.width);
          canvas.height = Math.ceil(viewport.height);
          canvas.className = 'pv__page';
          canvas.setAttribute('role', 'img');
          canvas.setAttribute('aria-label', t('pdfPage', { page: n, pages: doc.numPages }));
          canvas.dataset.testid = 'pdf-canvas';
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
  }, [data, t]);
  return (
    <div data-testid="pdf-preview" data-pages={pages}>
      <p className="notice notice--deid small">{t('pdfRendition')}</p>
      <Status loading={loading} error={error ?? renderError} />
      <div ref={host} className="pv__pages" />
    </div>
  );
}

function DicomPreview({ grantId, token, file }: Where & { file: ReleasedFile }) {
  const t = useTranslations('preview');
  const ids = useId();
  const [win, setWin] = useState<{ center: number; width: number } | undefined>();
  // Slider moves are debounced so dragging does not flood the API (each request is audited).
  const [requested, setRequested] = useState<{ center: number; width: number } | undefined>();
  useEffect(() => {
    const h = setTimeout(() => setRequested(win), 250);
    return () => clearTimeout(h);
  }, [win]);
  const { data, error, loading } = usePreview(previewPath(grantId, token, file.fileId, requested ? { wc: requested.center, ww: requested.width } : {}), 'image/png');
  const canvas = useRef<HTMLCanvasElement>(null);
  const [meta, setMeta] = useState<PreviewResponse['dicom']>();
  useEffect(() => {
    if (!data) return;
    if (data.dicom && !meta) setMeta(data.dicom);
    let cancelled = false;
    void createImageBitmap(data.blob).then((bmp) => {
      const c = canvas.current;
      if (cancelled || !c) return bmp.close();
      c.width = bmp.width;
      c.height = bmp.height;
      c.getContext('2d')!.drawImage(bmp, 0, 0);
      c.dataset.window = data.dicom?.window ? `${data.dicom.window.center}/${data.dicom.window.width}` : '';
      bmp.close();
    });
    return () => {
      cancelled = true;
    };
  }, [data, meta]);
  const def = meta?.defaultWindow;
  const range = meta?.range ?? (def ? { min: def.center - def.width, max: def.center + def.width } : undefined);
  const shown = win ?? def;
  const span = range ? Math.max(2, range.max - range.min) : 0;
  return (
    <div data-testid="dicom-preview">
      <p className="notice notice--deid small">{t('dicomRendition')}</p>
      <Status loading={loading} error={error} />
      <canvas ref={canvas} className="pv__dicom" role="img" aria-label={t('dicomFrame', { title: file.title.en })} data-testid="dicom-canvas" />
      {shown && range ? (
        <fieldset className="pv__wl">
          <legend>{t('windowLevel')}</legend>
          <label htmlFor={`${ids}-c`}>
            {t('windowCenter')} <output>{Math.round(shown.center)}</output>
          </label>
          <input id={`${ids}-c`} type="range" min={Math.floor(range.min - span / 2)} max={Math.ceil(range.max + span / 2)} step={1} value={Math.round(shown.center)} onChange={(e) => setWin({ center: Number(e.target.value), width: shown.width })} data-testid="window-center" />
          <label htmlFor={`${ids}-w`}>
            {t('windowWidth')} <output>{Math.round(shown.width)}</output>
          </label>
          <input id={`${ids}-w`} type="range" min={2} max={Math.ceil(span * 2)} step={1} value={Math.round(shown.width)} onChange={(e) => setWin({ center: shown.center, width: Number(e.target.value) })} data-testid="window-width" />
          <button type="button" className="button button--secondary" onClick={() => setWin(undefined)} disabled={!win}>
            {t('resetWindow')}
          </button>
        </fieldset>
      ) : null}
    </div>
  );
}

function useObjectUrl(blob: Blob | undefined): string | undefined {
  const [url, setUrl] = useState<string | undefined>();
  useEffect(() => {
    if (!blob) return;
    const u = URL.createObjectURL(blob);
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [blob]);
  return url;
}

function ImagePreview({ grantId, token, file, label }: Where & { file: ReleasedFile; label: string }) {
  const t = useTranslations('preview');
  const { data, error, loading } = usePreview(previewPath(grantId, token, file.fileId), 'image/png');
  const url = useObjectUrl(data?.blob);
  const [zoom, setZoom] = useState(1);
  return (
    <div data-testid="image-preview">
      <Status loading={loading} error={error} />
      <div className="pv__zoom" role="group" aria-label={t('zoom')}>
        <button type="button" className="button button--secondary" onClick={() => setZoom((z) => Math.max(0.25, z / 1.5))} aria-label={t('zoomOut')}>
          −
        </button>
        <output aria-live="polite">{Math.round(zoom * 100)}%</output>
        <button type="button" className="button button--secondary" onClick={() => setZoom((z) => Math.min(8, z * 1.5))} aria-label={t('zoomIn')}>
          +
        </button>
        <button type="button" className="button button--secondary" onClick={() => setZoom(1)}>
          {t('zoomReset')}
        </button>
      </div>
      <div className="pv__image">
        {url ? <img src={url} alt={label} style={{ width: `${zoom * 100}%`, maxWidth: 'none', imageRendering: zoom > 2 ? 'pixelated' : 'auto' }} draggable={false} /> : null}
      </div>
    </div>
  );
}

function TextPreview({ grantId, token, file }: Where & { file: ReleasedFile }) {
  const t = useTranslations('preview');
  const { data, error, loading } = usePreview(previewPath(grantId, token, file.fileId), 'text/plain');
  const [text, setText] = useState<string | undefined>();
  useEffect(() => {
    if (data) void data.blob.text().then(setText);
  }, [data]);
  return (
    <div data-testid="text-preview">
      <p className="notice notice--deid small">{t('textRendition')}</p>
      <Status loading={loading} error={error} />
      {text !== undefined ? (
        <pre className="pv__text" tabIndex={0}>
          {text}
        </pre>
      ) : null}
    </div>
  );
}
