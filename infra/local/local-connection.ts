import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDocumentStore } from '../../functions/adapters/aws/dynamo-document-store';
import { S3ObjectStore } from '../../functions/adapters/aws/s3-object-store';
import type { LocalKeyMaterial } from '../../functions/adapters/local/local-key-provider';

/** Repository root (this file is infra/local/local-connection.ts); no import of the platform needed. */
export const LOCAL_REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * How command-line tools reach the stores of a running local platform (`npm start`): the same
 * emulator ports, table and bucket names, state file and key file `startPlatform` uses.
 */
export interface LocalConnection {
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  endpoints: { dynamodb: string; s3: string; cognito: string };
  tables: { main: string; identity: string; audit: string };
  buckets: { staging: string; data: string; archive: string };
  dataDir: string;
  stateFile: string;
  keyFile: string;
}

/** The connection for the data folder `dataDir` (default `<repo>/.mdrp`); ports from MDRP_*_PORT. */
export function localConnection(dataDir = join(LOCAL_REPO_ROOT, '.mdrp')): LocalConnection {
  const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
  return {
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    endpoints: {
      dynamodb: `http://127.0.0.1:${port('MDRP_DYNAMO_PORT', 8000)}`,
      s3: `http://127.0.0.1:${port('MDRP_S3_PORT', 4569)}`,
      cognito: `http://127.0.0.1:${port('MDRP_COGNITO_PORT', 9229)}`,
    },
    tables: { main: 'mdrp-main', identity: 'mdrp-identity', audit: 'mdrp-audit' },
    buckets: { staging: 'mdrp-staging', data: 'mdrp-data', archive: 'mdrp-archive' },
    dataDir,
    stateFile: join(dataDir, 'local-state.json'),
    keyFile: `${dataDir}.keys/local-keys.json`,
  };
}

/** The local platform's state file, or an error telling how to get one. */
export function readLocalState<T>(c: LocalConnection): T {
  if (!existsSync(c.stateFile)) throw new Error('no local platform state: run `npm start` first');
  return JSON.parse(readFileSync(c.stateFile, 'utf8')) as T;
}

/** The local key file (never created here: a tool must not mint keys the platform does not have). */
export function readLocalKeys(c: LocalConnection): LocalKeyMaterial {
  if (!existsSync(c.keyFile)) throw new Error(`no local key file at ${c.keyFile}: run \`npm start\` first`);
  return JSON.parse(readFileSync(c.keyFile, 'utf8')) as LocalKeyMaterial;
}

/** Document and object stores over the local emulators (the AWS adapters, as the platform uses). */
export function localStores(c: LocalConnection) {
  const sdk = (endpoint: string) => ({ region: c.region, endpoint, credentials: c.credentials });
  return {
    documents: new DynamoDocumentStore(new DynamoDBClient(sdk(c.endpoints.dynamodb)), c.tables),
    objects: new S3ObjectStore(new S3Client({ ...sdk(c.endpoints.s3), forcePathStyle: true }), c.buckets),
  };
}
