import { fileTypeFromBuffer } from 'file-type';
import { createHash } from 'node:crypto';
import type { Authorizer } from '../authz/authorizer';
import { ConflictError, DomainError, ForbiddenError, NotFoundError, ValidationError } from '../errors';
import type { Actor } from '../identity/actor';
import type { Clock } from '../ports/clock';
import type { DocumentStore, Item } from '../ports/document-store';
import type { KeyProvider } from '../ports/key-provider';
import type { ObjectStore } from '../ports/object-store';
import { roleForStep, type AccessRequest, type Attachment } from './access-request';

/** Kinds of governance documents a request carries (R-GOV-9). */
export const DOCUMENT_KINDS = ['protocol', 'ethics-approval', 'data-sharing-agreement', 'consent-form', 'other'] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

/** Media types accepted: PDF, images, plain text. Anything else is refused. */
export const DOCUMENT_TYPES = ['application/pdf', 'image/png', 'image/jpeg', 'text/plain'] as const;
export type DocumentType = (typeof DOCUMENT_TYPES)[number];

/** Largest document accepted (bytes, decoded). */
export const MAX_DOCUMENT_BYTES = 5 * 1024 * 1024;

/** One stored version of a document. Its bytes are envelope-encrypted in the data bucket. */
export interface RequestDocument {
  documentId: string;
  requestId: string;
  kind: DocumentKind;
  version: number;
  fileName: string;
  contentType: DocumentType;
  sizeBytes: number;
  sha256: string;
  uploadedBy: string;
  uploadedByName?: string;
  uploadedAt: string;
  objectKey: string;
  keyId: string;
}

export interface UploadDocumentInput {
  kind: DocumentKind;
  fileName: string;
  contentType: DocumentType;
  /** Hex SHA-256 the client computed: the stored bytes must match it. */
  sha256: string;
  content: Uint8Array;
}

type DocItem = Item & { document: RequestDocument };

/** Requests that are closed take no more documents. */
const CLOSED = new Set(['approved', 'rejected', 'failed']);

/**
 * Governance documents of an access request (R-GOV-9): protocol, ethics approval, data sharing
 * agreement, consent form, other. Each upload of a kind is a new version (earlier ones stay
 * listable and readable); bytes are checked (size, declared type against the content, SHA-256)
 * and stored envelope-encrypted with the request and document ids bound as encryption context.
 * Who may attach or read is decided by Cedar on the request (the applicant; reviewers of its steps'
 * roles or who acted on a step; auditors); anyone else gets not-found, so the existence of a
 * request is not revealed.
 */
export class RequestDocumentService {
  constructor(
    private readonly store: DocumentStore,
    private readonly objects: ObjectStore,
    private readonly keys: KeyProvider,
    private readonly authorizer: Authorizer,
    private readonly clock: Clock,
    private readonly requests: {
      getUnchecked(requestId: string): Promise<AccessRequest>;
      recordAttachment(requestId: string, actor: Actor, attachment: Attachment): Promise<AccessRequest>;
    },
  ) {}

  async upload(actor: Actor, requestId: string, input: UploadDocumentInput): Promise<RequestDocument> {
    const request = await this.visibleRequest(actor, requestId, 'ReadRequestDocument');
    const d = this.authorizer.decide({ actor, action: 'AttachRequestDocument', resource: resourceOf(request) });
    if (d.effect !== 'allow') throw new ForbiddenError('only the applicant attaches documents to a request', { requestId, policyIds: d.policyIds });
    if (CLOSED.has(request.status)) throw new ConflictError(`the request is ${request.status}: no more documents`, { requestId, status: request.status });
    if (input.content.byteLength === 0) throw new ValidationError('the document is empty', { field: 'content' });
    if (input.content.byteLength > MAX_DOCUMENT_BYTES) throw new DomainError('PAYLOAD_TOO_LARGE', 'document too large', { maxBytes: MAX_DOCUMENT_BYTES });
    const sha256 = createHash('sha256').update(input.content).digest('hex');
    if (sha256 !== input.sha256) throw new ValidationError('the content does not match its SHA-256', { field: 'sha256', reason: 'CHECKSUM_MISMATCH' });
    const detected = await detectType(input.content);
    if (detected !== input.contentType) {
      throw new DomainError('UNSUPPORTED_MEDIA_TYPE', 'the content is not of an accepted type, or not of the declared one', { declared: input.contentType, detected: detected ?? 'unknown', allowed: DOCUMENT_TYPES });
    }
    const now = new Date(this.clock.now()).toISOString();
    for (let attempt = 0; attempt < 5; attempt++) {
      const version = (await this.versionsOf(requestId, input.kind)).length + 1;
      const documentId = `${requestId}-${input.kind}-v${version}`;
      const objectKey = `request-documents/${requestId}/${documentId}`;
      const context = { purpose: 'request-document', requestId, documentId };
      const { ciphertext, keyId } = await this.keys.encrypt('data', input.content, context);
      const doc: RequestDocument = {
        documentId,
        requestId,
        kind: input.kind,
        version,
        fileName: safeFileName(input.fileName),
        contentType: input.contentType,
        sizeBytes: input.content.byteLength,
        sha256,
        uploadedBy: actor.id,
        ...(actor.displayName ? { uploadedByName: actor.displayName } : {}),
        uploadedAt: now,
        objectKey,
        keyId,
      };
      try {
        // The version slot is claimed first: two concurrent uploads of one kind cannot share a number.
        await this.store.put('main', { pk: `REQUEST#${requestId}`, sk: `DOC#${input.kind}#${String(version).padStart(4, '0')}`, document: doc }, { ifNotExists: true });
      } catch (e) {
        if (e instanceof ConflictError) continue;
        throw e;
      }
      try {
        await this.objects.put('data', objectKey, ciphertext, { contentType: 'application/octet-stream', metadata: { sha256, 'document-id': documentId } });
      } catch (e) {
        // Nothing half-written: the version slot is released if the bytes could not be stored.
        await this.store.delete('main', { pk: `REQUEST#${requestId}`, sk: `DOC#${input.kind}#${String(version).padStart(4, '0')}` });
        throw e;
      }
      await this.requests.recordAttachment(requestId, actor, { attachmentId: documentId, kind: input.kind, fileName: doc.fileName, sha256, version, uploadedAt: now, sizeBytes: doc.sizeBytes, contentType: doc.contentType });
      return doc;
    }
    throw new ConflictError('could not allocate a document version', { requestId, kind: input.kind });
  }

  /** Every version of every document of the request, newest version of each kind first. */
  async list(actor: Actor, requestId: string): Promise<RequestDocument[]> {
    await this.visibleRequest(actor, requestId, 'ReadRequestDocument');
    const docs = await this.allOf(requestId);
    return docs.sort((a, b) => (a.kind === b.kind ? b.version - a.version : DOCUMENT_KINDS.indexOf(a.kind) - DOCUMENT_KINDS.indexOf(b.kind)));
  }

  /** One version's bytes, decrypted and checked against the stored SHA-256. */
  async read(actor: Actor, requestId: string, documentId: string): Promise<{ document: RequestDocument; content: Uint8Array }> {
    await this.visibleRequest(actor, requestId, 'ReadRequestDocument');
    const document = (await this.allOf(requestId)).find((d) => d.documentId === documentId);
    if (!document) throw new NotFoundError('document', { requestId, documentId });
    const stored = await this.objects.get('data', document.objectKey);
    if (!stored) throw new NotFoundError('document content', { documentId });
    const content = await this.keys.decrypt('data', stored.body, { purpose: 'request-document', requestId, documentId });
    if (createHash('sha256').update(content).digest('hex') !== document.sha256) throw new DomainError('INTERNAL', 'stored document failed its integrity check', { documentId });
    return { document, content };
  }

  private async visibleRequest(actor: Actor, requestId: string, action: string): Promise<AccessRequest> {
    const request = await this.requests.getUnchecked(requestId);
    const d = this.authorizer.decide({ actor, action, resource: resourceOf(request) });
    if (d.effect !== 'allow') throw new NotFoundError('access request', { requestId });
    return request;
  }

  private async versionsOf(requestId: string, kind: DocumentKind): Promise<RequestDocument[]> {
    const page = await this.store.query<DocItem>('main', { pk: `REQUEST#${requestId}`, skPrefix: `DOC#${kind}#`, limit: 1000 });
    return page.items.map((i) => i.document);
  }

  private async allOf(requestId: string): Promise<RequestDocument[]> {
    const out: RequestDocument[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.store.query<DocItem>('main', { pk: `REQUEST#${requestId}`, skPrefix: 'DOC#', limit: 1000, cursor });
      out.push(...page.items.map((i) => i.document));
      cursor = page.cursor;
    } while (cursor);
    return out;
  }
}

/**
 * The request as Cedar sees it for documents: who applied, the roles of its steps (ethics, then its
 * approval chain) and the reviewers who acted on a step (recorded in its history).
 */
function resourceOf(r: AccessRequest) {
  const stepRoles = [...new Set(['ethics' as const, ...r.approvalChain].map((s) => `role:${roleForStep(s)}`))];
  const reviewers = [...new Set(r.history.filter((h) => h.step !== undefined && h.actorId !== 'system' && h.actorId !== r.applicantId).map((h) => `user:${h.actorId}`))];
  return { type: 'AccessRequest' as const, id: r.requestId, attributes: { applicant: `user:${r.applicantId}`, institution: r.institution, stepRoles, reviewers } };
}

/** The media type of the bytes: by signature for PDF and images; UTF-8 without control bytes for text. */
async function detectType(bytes: Uint8Array): Promise<DocumentType | undefined> {
  const ft = await fileTypeFromBuffer(bytes);
  if (ft) return (DOCUMENT_TYPES as readonly string[]).includes(ft.mime) ? (ft.mime as DocumentType) : undefined;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return /[\u0000-\u0008\u000e-\u001f]/.test(text) ? undefined : 'text/plain';
  } catch {
    return undefined;
  }
}

/** Keeps the name displayable and header-safe: no path, no control characters. */
function safeFileName(name: string): string {
  const base = name.split(/[\\/]/).pop()!.replace(/[\u0000-\u001f\u007f"]/g, '_').trim();
  return (base || 'document').slice(0, 200);
}
