import { CreateApiKeyCommand, CreateUsagePlanKeyCommand, GetUsagePlansCommand, UpdateApiKeyCommand, type APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { randomBytes } from 'node:crypto';
import type { ApiKeyIssuer, IssuedApiKey } from '../../core/ports/api-key-issuer';

/**
 * API Gateway API keys bound to the partner usage plan (`mdrp-<stage>-partners-<plan>`, created
 * by CDK; looked up by name because passing its id would make a dependency cycle).
 */
export class ApiGatewayKeyIssuer implements ApiKeyIssuer {
  private readonly planIds = new Map<string, string>();

  constructor(
    private readonly apigw: APIGatewayClient,
    private readonly stage: string,
  ) {}

  async issue(partnerId: string, plan: string): Promise<IssuedApiKey> {
    const value = randomBytes(30).toString('base64url');
    const key = await this.apigw.send(new CreateApiKeyCommand({ name: `${partnerId}-${Date.now()}`, enabled: true, value, tags: { partnerId } }));
    await this.apigw.send(new CreateUsagePlanKeyCommand({ usagePlanId: await this.planId(plan), keyId: key.id!, keyType: 'API_KEY' }));
    return { keyId: key.id!, value, plan };
  }

  async revoke(keyId: string): Promise<void> {
    await this.apigw.send(new UpdateApiKeyCommand({ apiKey: keyId, patchOperations: [{ op: 'replace', path: '/enabled', value: 'false' }] }));
  }

  private async planId(plan: string): Promise<string> {
    const name = `mdrp-${this.stage}-partners-${plan}`;
    const cached = this.planIds.get(name);
    if (cached) return cached;
    let position: string | undefined;
    do {
      const out = await this.apigw.send(new GetUsagePlansCommand({ position, limit: 500 }));
      const found = out.items?.find((p) => p.name === name);
      if (found?.id) {
        this.planIds.set(name, found.id);
        return found.id;
      }
      position = out.position;
    } while (position);
    throw new Error(`usage plan ${name} not found`);
  }
}
