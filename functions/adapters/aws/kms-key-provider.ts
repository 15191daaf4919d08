import { KmsKeyringNode } from '@aws-crypto/client-node';
import type { KMS } from '@aws-sdk/client-kms';
import type { MacPurpose } from '../../core/ports/key-provider';
import { EnvelopeKeyProvider } from '../shared/envelope-key-provider';

export interface KmsKeyArns {
  dataKeyArn: string;
  identityKeyArn: string;
  matchHmacKeyArn: string;
  pseudonymHmacKeyArn: string;
}

/**
 * KMS key provider (takes the aggregated `KMS` client, the shape the Encryption SDK's keyring expects): Encryption SDK KMS keyrings (the data key is generated and wrapped by KMS)
 * and KMS HMAC keys (`GenerateMac`), so MAC keys never leave KMS (ARCHITECTURE D2).
 */
export class KmsKeyProvider extends EnvelopeKeyProvider {
  constructor(kms: KMS, arns: KmsKeyArns) {
    const ring = (arn: string) => ({ keyId: arn, keyring: new KmsKeyringNode({ generatorKeyId: arn, clientProvider: () => kms }) });
    const macArns: Record<MacPurpose, string> = { 'identifier-match': arns.matchHmacKeyArn, pseudonym: arns.pseudonymHmacKeyArn };
    super({ data: ring(arns.dataKeyArn), identity: ring(arns.identityKeyArn) }, async (purpose, message) => {
      const out = await kms.generateMac({ KeyId: macArns[purpose], MacAlgorithm: 'HMAC_SHA_256', Message: Buffer.from(message, 'utf8') });
      return Buffer.from(out.Mac!).toString('hex');
    });
  }
}
