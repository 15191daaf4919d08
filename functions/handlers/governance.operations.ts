import type { RenewalInput } from '../core/access/grant-renewal';
import type { DocumentKind, DocumentType, RequestDocument } from '../core/access/request-documents';
import type { AccessRequest } from '../core/access/access-request';
import type { PolicyVersion } from '../core/authz/policy-administration';
import { ValidationError } from '../core/errors';
import type { Actor } from '../core/identity/actor';
import type { OperationContext, OperationMap } from '../http/operation';
import { HttpResult } from '../http/operation';

type Ctx<B = unknown, Q = Record<string, unknown>> = OperationContext<Record<string, string>, Q, B>;

/** The public view of a request: the pending step's task token never leaves the service. */
function requestView(r: AccessRequest) {
  const { pending, ...rest } = r;
  if (!pending) return rest;
  const { taskToken: _token, decision: _decision, ...open } = pending;
  return { ...rest, pending: open };
}

/** A document's metadata without where and how it is stored. */
function documentView(d: RequestDocument) {
  const { objectKey: _key, keyId: _keyId, ...rest } = d;
  return rest;
}

function versionView(v: PolicyVersion) {
  const { overrides, ...rest } = v;
  return { ...rest, overriddenFiles: Object.keys(overrides).sort() };
}

/** Names the caller for histories (the directory has the name when the token does not). */
async function named(ctx: Ctx<unknown>): Promise<Actor> {
  const { actor, container } = ctx;
  if (actor.displayName || !actor.username) return actor;
  const user = await container.directory.getUser(actor.username).catch(() => undefined);
  return user ? { ...actor, displayName: user.displayName } : actor;
}

/** Request documents, grant renewal and runtime policy administration (issue 5), in the access module. */
export const governanceOperations: OperationMap = {
  async uploadRequestDocument(ctx: Ctx<{ kind: DocumentKind; fileName: string; contentType: DocumentType; sha256: string; contentBase64: string }>) {
    const { container, params, body, audit } = ctx;
    audit.resources.push({ type: 'AccessRequest', id: params.requestId! });
    audit.parameters.kind = body.kind;
    audit.parameters.contentType = body.contentType;
    const content = new Uint8Array(Buffer.from(body.contentBase64, 'base64'));
    audit.parameters.sizeBytes = content.byteLength;
    const doc = await container.requestDocuments.upload(await named(ctx), params.requestId!, { kind: body.kind, fileName: body.fileName, contentType: body.contentType, sha256: body.sha256, content });
    audit.resources.push({ type: 'RequestDocument', id: doc.documentId });
    audit.parameters.sha256 = doc.sha256;
    return documentView(doc);
  },
  async listRequestDocuments({ container, actor, params, audit }: Ctx) {
    audit.resources.push({ type: 'AccessRequest', id: params.requestId! });
    const items = await container.requestDocuments.list(actor, params.requestId!);
    audit.count = items.length;
    return { items: items.map(documentView) };
  },
  async getRequestDocumentContent({ container, actor, params, audit }: Ctx) {
    audit.resources.push({ type: 'AccessRequest', id: params.requestId! }, { type: 'RequestDocument', id: params.documentId! });
    const { document, content } = await container.requestDocuments.read(actor, params.requestId!, params.documentId!);
    audit.parameters.sha256 = document.sha256;
    return new HttpResult(200, content, {
      'content-type': document.contentType === 'text/plain' ? 'text/plain; charset=utf-8' : document.contentType,
      // Viewed in the browser, never stored by it (R-GOV-9 copy control); the name is RFC 5987-encoded.
      'content-disposition': `inline; filename="document"; filename*=UTF-8''${encodeURIComponent(document.fileName)}`,
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox",
      'x-document-sha256': document.sha256,
    });
  },
  async requestGrantRenewal(ctx: Ctx<RenewalInput>) {
    const { container, params, body, audit } = ctx;
    audit.resources.push({ type: 'Grant', id: params.grantId! });
    const r = await container.grantRenewals.request(await named(ctx), params.grantId!, body);
    audit.resources.push({ type: 'AccessRequest', id: r.requestId });
    audit.parameters.requestedDurationDays = r.requestedDurationDays;
    return requestView(r);
  },
  async getPolicySet({ container, audit }: Ctx) {
    await container.authorizer.refresh();
    const { version, files, locked } = await container.policies.files();
    audit.parameters.version = version.number;
    return { version: versionView(version), loadedVersion: container.authorizer.version, locked, files };
  },
  async listPolicyVersions({ container, audit }: Ctx) {
    const [current, items] = await Promise.all([container.policies.currentNumber(), container.policies.history()]);
    audit.count = items.length;
    return { current, items: items.map(versionView) };
  },
  async changePolicy(ctx: Ctx<{ file: string; text: string; reason: string; baseVersion?: number; dryRun: boolean }>) {
    const { container, body, audit } = ctx;
    audit.resources.push({ type: 'PolicySet', id: body.file });
    audit.parameters.dryRun = body.dryRun;
    if (body.dryRun) {
      const messages = await container.policies.check(body.file, body.text);
      return new HttpResult(200, { valid: messages.length === 0, messages });
    }
    try {
      const version = await container.policies.change(await named(ctx), body);
      // This instance decides with the new set at once; the others within the reload TTL.
      await container.authorizer.refresh(true);
      audit.parameters.version = version.number;
      audit.parameters.reason = body.reason.slice(0, 200);
      return { valid: true, messages: [], version: versionView(version) };
    } catch (e) {
      if (e instanceof ValidationError) audit.parameters.invalid = true;
      throw e;
    }
  },
  async rollbackPolicies(ctx: Ctx<{ toVersion: number; reason: string }>) {
    const { container, body, audit } = ctx;
    audit.resources.push({ type: 'PolicySet', id: `v${body.toVersion}` });
    const version = await container.policies.rollback(await named(ctx), body);
    await container.authorizer.refresh(true);
    audit.parameters.version = version.number;
    audit.parameters.rolledBackTo = body.toVersion;
    audit.parameters.reason = body.reason.slice(0, 200);
    return versionView(version);
  },
};
