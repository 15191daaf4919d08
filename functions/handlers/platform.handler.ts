import { buildOpenApiDocument } from '../http/openapi';
import { makeApiHandler } from '../http/make-api-handler';
import type { OperationMap } from '../http/operation';
import { routes } from '../http/routes';
import { lambdaContainer, lambdaObservability } from './lambda-runtime';

let openApi: Record<string, unknown> | undefined;

/** Health, the OpenAPI document and the caller's profile. */
export const operations: OperationMap = {
  async getHealth({ container }) {
    const probe = async (fn: () => Promise<void>) => fn().then(() => 'ok' as const, () => 'unavailable' as const);
    const checks = {
      documentStore: await probe(() => container.documents.ping()),
      objectStore: await probe(() => container.objects.ping()),
    };
    return {
      status: Object.values(checks).every((c) => c === 'ok') ? 'ok' : 'degraded',
      version: container.config.version,
      time: new Date(container.clock.now()).toISOString(),
      checks,
    };
  },
  async getOpenApiDocument({ container }) {
    openApi ??= buildOpenApiDocument(routes, { version: container.config.version });
    return openApi;
  },
  async getMyProfile({ actor, container }) {
    // The ID token carries `name` in Cognito; when it does not (cognito-local puts only custom
    // attributes in ID tokens), the directory has it.
    const displayName = actor.displayName ?? (actor.username ? (await container.directory.getUser(actor.username))?.displayName : undefined);
    return {
      userId: actor.id,
      username: actor.username ?? actor.id,
      displayName: displayName ?? actor.username ?? actor.id,
      roles: actor.roles,
      institution: actor.institution ?? '',
      mfaEnabled: actor.mfa,
    };
  },
};

export const handler = makeApiHandler('platform', operations, lambdaContainer, lambdaObservability('platform'));
