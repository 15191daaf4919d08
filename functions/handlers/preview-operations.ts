import type { PreviewRequest } from '../core/access/file-preview-service';
import { HttpResult, type OperationContext, type OperationMap } from '../http/operation';

/**
 * Inline previews of released files (R-ANA-2), served by the access module. The response is
 * binary; it is shown in place (`inline`), never cached (`no-store`), and named by the
 * grant-scoped file id only. Audited as data access with the rendition and policy.
 */
export const previewOperations: OperationMap = {
  async previewReleasedFile({ container, actor, params, query, audit }: OperationContext<{ grantId: string; token: string; fileId: string }, PreviewRequest>) {
    audit.resources.push({ type: 'Grant', id: params.grantId }, { type: 'Patient', id: params.token }, { type: 'File', id: params.fileId });
    const p = await container.previews.preview(actor, params.grantId, params.token, params.fileId, query);
    audit.parameters.rendition = p.rendition;
    audit.parameters.policy = `${p.policy.id}@${p.policy.version}`;
    if (p.removedSpans !== undefined) audit.parameters.removedSpans = p.removedSpans;
    if (p.dicom) audit.parameters.frame = p.dicom.frame;
    const headers: Record<string, string> = {
      'content-type': p.contentType,
      'content-disposition': `inline; filename="${p.fileName}"`,
      'cache-control': 'no-store, max-age=0',
      pragma: 'no-cache',
      'x-mdrp-rendition': p.rendition,
      'x-mdrp-deid-policy': `${p.policy.id}@${p.policy.version}`,
      'access-control-expose-headers': 'x-correlation-id,retry-after,x-mdrp-rendition,x-mdrp-deid-policy,x-dicom-window,x-dicom-default-window,x-dicom-frames,x-dicom-range',
    };
    if (p.dicom) {
      headers['x-dicom-frames'] = String(p.dicom.frames);
      if (p.dicom.window) headers['x-dicom-window'] = `${p.dicom.window.center}/${p.dicom.window.width}`;
      if (p.dicom.defaultWindow) headers['x-dicom-default-window'] = `${p.dicom.defaultWindow.center}/${p.dicom.defaultWindow.width}`;
      if (p.dicom.range) headers['x-dicom-range'] = `${p.dicom.range.min}/${p.dicom.range.max}`;
    }
    return new HttpResult(200, p.bytes, headers);
  },
};
