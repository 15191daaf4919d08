import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PlatformConfig } from '../../functions/composition/config';
import { DynamoDocumentStore } from '../../functions/adapters/aws/dynamo-document-store';
import { LocalApiKeyIssuer } from '../../functions/adapters/local/local-api-key-issuer';
import { LocalOidcClientRegistry } from '../../functions/adapters/local/local-oidc-client-registry';
import { JoseAccessTokenVerifier } from '../../functions/adapters/shared/jose-access-token-verifier';
import { PartnerEdgeGate } from '../../functions/core/partners/partner-edge-gate';
import { UsageMeter } from '../../functions/core/partners/usage-meter';
import { PARTNER_EDGE } from '../../functions/core/partners/usage-plans';
import { startLocalOidcProvider } from './emulators/oidc-provider';
import { RandomIdGenerator } from '../../functions/adapters/shared/random-id-generator';
import { buildContainer, type Container } from '../../functions/composition/container';
import { systemClock } from '../../functions/core/ports/clock';
import { systemActor } from '../../functions/core/identity/actor';
import { routes } from '../../functions/http/routes';
import { DEFAULT_DEMO_PASSWORD, demoAccounts } from './demo-accounts';
import { ensureDemoUser, ensureUserPool, startCognitoLocal, type DemoAccount, type UserPoolSetup } from './emulators/cognito-local';
import { startCognitoRefreshProxy } from './emulators/cognito-refresh-proxy';
import { PRE_TOKEN_GENERATION_FUNCTION, startCognitoTriggerEndpoint, type PreTokenGenerationHandler } from './emulators/cognito-triggers';
import { makePreTokenGenerationHandler } from '../../functions/handlers/pre-token-generation.handler';
import { CognitoMfaFactors } from '../../functions/adapters/aws/cognito-mfa-factors';
import { cognitoAuthAuditor } from './emulators/cognito-auth-audit';
import { ensureTables, startDynamoDbLocal } from './emulators/dynamodb-local';
import { allowPortalUploads, ensureBuckets, startS3Local } from './emulators/s3-local';
import { processStagedObjects, type StagedObjectEvent } from '../../functions/handlers/ingest-events.handler';
import { FILES_INGESTED_TOGETHER } from '../../functions/core/ingestion/ingest-support';
import { auditAlertFeedOf } from '../../functions/handlers/audit-alerts.handler';
import { runAuditSealing } from '../../functions/handlers/audit.handler';
import { runDailySweep } from '../../functions/handlers/scheduled-jobs.handler';
import { runWebhookDelivery } from '../../functions/handlers/webhook-delivery.handler';
import { startHttpFront } from './http-front';
import { LocalQueue } from './local-queue';
import { localHandlers } from './local-handlers';
import { startPortalServer } from './portal-server';
import { seedDemoData } from './seed/seed-demo-data';
import { startLocalWorkflows } from './workflows';

/** Repository root (this file is infra/local/platform.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface StartPlatformOptions {
  /** Folder holding every emulator's data; persists across restarts (git-ignored `.mdrp/`). */
  dataDir: string;
  apiPort: number;
  webPort: number;
  dynamoPort?: number;
  s3Port?: number;
  cognitoPort?: number;
  /** The local OAuth 2.0 provider for partners (client credentials); default: any free port (`npm start`: 9240, `MDRP_OIDC_PORT`). */
  oidcPort?: number;
  /** Load the demo data set on first start (default true). */
  seed?: boolean;
  /** Patients in the demo cohort (default 60). */
  demoPatients?: number;
  quiet?: boolean;
  /** Serve the built portal from web/out (default true; skipped if it is not built). */
  portal?: boolean;
  /** Interval of the audit alert feed (default 1 s). */
  alertFeedIntervalMs?: number;
  /** Local scheduler poll interval (default 5 s). */
  schedulerIntervalMs?: number;
  /** How often the local runtime delivers due webhooks from the outbox (default 2 s). */
  webhookIntervalMs?: number;
  /** Keep DynamoDB Local in memory (tests: faster, nothing to persist). */
  inMemoryDatabase?: boolean;
  /**
   * Wait for the demo data before resolving (tests). `npm start` serves at once and loads the
   * demo data in the background, reporting progress.
   */
  waitForSeed?: boolean;
  log?: (line: string) => void;
}

export interface RunningPlatform {
  apiUrl: string;
  webUrl: string;
  accounts: DemoAccount[];
  container: Container;
  config: PlatformConfig;
  cognito: UserPoolSetup & { endpoint: string; browserEndpoint: string };
  demoPartner?: { partnerId: string; apiKey: string; clientId?: string; clientSecret?: string };
  /** The partners' OAuth 2.0 provider (client-credentials grant); the signing key file is for tests forging expired tokens. */
  oauth: { issuer: string; tokenEndpoint: string; jwksUrl: string; signingKeyFile: string };
  /** Resolves when the demo data is loaded (at once if it already was, or seeding is off). */
  seeded: Promise<void>;
  /**
   * The DynamoDB Local process (loss tests, issue 6 "Reliability"): `kill` stops it abruptly
   * (SIGKILL), `restart` starts it again on the same port and data folder.
   */
  database: { kill(): Promise<void>; restart(): Promise<void> };
  stop(): Promise<void>;
}

interface LocalState {
  userPool?: UserPoolSetup;
  /** The demo partner's API key and OAuth client (local only: shown once by the API, kept here for the banner). */
  demoPartner?: { partnerId: string; apiKey: string; clientId?: string; clientSecret?: string };
}

/**
 * Brings up the whole platform on this machine: DynamoDB Local, s3rver and cognito-local, the
 * same Lambda handlers behind a local API Gateway front, the workflow runner and scheduler, the
 * portal, and the demo data. Everything binds to 127.0.0.1 (DynamoDB Local cannot: see README).
 */
export async function startPlatform(opts: StartPlatformOptions): Promise<RunningPlatform> {
  const log = opts.log ?? ((l: string) => (opts.quiet ? undefined : console.log(l)));
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const ports = { dynamo: opts.dynamoPort ?? 8000, s3: opts.s3Port ?? 4569, cognito: opts.cognitoPort ?? 9229 };
  const webUrl = `http://127.0.0.1:${opts.webPort}`;
  const stateFile = join(dataDir, 'local-state.json');
  const state: LocalState = existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as LocalState) : {};
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };

  // Object-created events of the staging bucket → the same handler the SQS-driven Lambda runs.
  let ingestQueue: LocalQueue<StagedObjectEvent> | undefined;
  try {
    const emulatorLog = (name: string) => (l: string) => (process.env.MDRP_EMULATOR_LOGS ? log(`[${name}] ${l}`) : undefined);
    const dynamoOptions = { port: ports.dynamo, ...(opts.inMemoryDatabase ? {} : { dataDir: join(dataDir, 'dynamodb') }), corsOrigin: webUrl, onOutput: emulatorLog('dynamodb') };
    // The user pool's pre-token-generation trigger: the deployed handler, reading the user's MFA
    // factors from cognito-local itself (R-SEC-6: local tokens carry `mdrp:mfa` as in AWS).
    let preTokenGeneration: PreTokenGenerationHandler | undefined;
    const triggerEndpoint = await startCognitoTriggerEndpoint({
      preTokenGeneration: () =>
        (preTokenGeneration ??= makePreTokenGenerationHandler({
          factors: new CognitoMfaFactors(new CognitoIdentityProviderClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${ports.cognito}`, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } })),
        })),
    });
    stops.push(() => triggerEndpoint.close());
    const [dynamoFirst, s3, cognitoProc] = await Promise.all([
      startDynamoDbLocal(dynamoOptions),
      startS3Local({ port: ports.s3, dataDir: join(dataDir, 's3'), corsOrigin: webUrl, onObjectCreated: (e) => (e.bucket === buckets.staging ? ingestQueue?.send(e) : undefined) }),
      startCognitoLocal({
        port: ports.cognito,
        dataDir: join(dataDir, 'cognito'),
        triggerEndpoint: { url: triggerEndpoint.url, preTokenGeneration: PRE_TOKEN_GENERATION_FUNCTION },
        onOutput: emulatorLog('cognito'),
      }),
    ]);
    let dynamo = dynamoFirst;
    stops.push(() => dynamo.stop(), () => s3.stop(), () => cognitoProc.stop());
    const database = {
      kill: async () => {
        const exited = new Promise<void>((r) => (dynamo.child.exitCode !== null || dynamo.child.signalCode !== null ? r() : dynamo.child.once('exit', () => r())));
        dynamo.child.kill('SIGKILL');
        await exited;
      },
      restart: async () => {
        dynamo = await startDynamoDbLocal(dynamoOptions);
      },
    };
    // Sign-in, sign-out, password and MFA calls through the proxy are audited (R-AUD-1), once the container is bound.
    const authAudit: { container?: Container } = {};
    const proxy = await startCognitoRefreshProxy({ port: ports.cognito + 1, targetPort: ports.cognito, onAuthCall: cognitoAuthAuditor(() => authAudit.container) });
    stops.push(() => proxy.close());

    const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
    const region = 'us-east-1';
    const endpoints = { dynamodb: `http://127.0.0.1:${ports.dynamo}`, s3: `http://127.0.0.1:${ports.s3}`, cognito: `http://127.0.0.1:${ports.cognito}` };
    const tables = { main: 'mdrp-main', identity: 'mdrp-identity', audit: 'mdrp-audit' };
    const buckets = { staging: 'mdrp-staging', data: 'mdrp-data', archive: 'mdrp-archive' };
    await ensureTables(new DynamoDBClient({ region, endpoint: endpoints.dynamodb, credentials }), Object.values(tables));
    await ensureBuckets(new S3Client({ region, endpoint: endpoints.s3, credentials, forcePathStyle: true }), Object.values(buckets));
    await allowPortalUploads(new S3Client({ region, endpoint: endpoints.s3, credentials, forcePathStyle: true }), buckets.staging, webUrl);
    const cognito = new CognitoIdentityProviderClient({ region, endpoint: endpoints.cognito, credentials });
    state.userPool = await ensureUserPool(cognito, state.userPool);
    writeFileSync(stateFile, JSON.stringify(state, null, 2));
    const accounts = demoAccounts(process.env.MDRP_DEMO_PASSWORD ?? DEFAULT_DEMO_PASSWORD);
    for (const a of accounts) await ensureDemoUser(cognito, state.userPool.userPoolId, a);

    const config: PlatformConfig = {
      stage: 'local',
      version: packageVersion(),
      region,
      tables,
      buckets,
      // The master keys live outside the data folder (LOCAL-RUNTIME: mode 0600, apart from data).
      keys: { kind: 'local', keyFile: `${dataDir}.keys/local-keys.json` },
      workflow: { kind: 'local' },
      scheduler: { kind: 'local' },
      identity: { userPoolId: state.userPool.userPoolId, issuer: `${endpoints.cognito}/${state.userPool.userPoolId}` },
      notifications: {},
      allowedOrigin: webUrl,
      assetsDir: REPO_ROOT,
      endpoints,
      localCredentials: credentials,
      // R-INT-1: partner webhooks may target a receiver on 127.0.0.1 locally (https only in AWS); quick retries.
      webhooks: { allowHttpLoopback: true, retryBaseMs: 5_000 },
    };

    // Workflow runner and scheduler have no emulator: local adapters over the same document
    // store, bound late to the container (their tasks run the container's services).
    const documents = new DynamoDocumentStore(new DynamoDBClient({ region, endpoint: endpoints.dynamodb, credentials }), tables);
    const ids = new RandomIdGenerator();
    const bound: { container?: Container } = {};
    const workflows = startLocalWorkflows({
      assetsDir: REPO_ROOT,
      documents,
      clock: systemClock,
      ids,
      getContainer: () => bound.container!,
      intervalMs: opts.schedulerIntervalMs ?? 5000,
      onError: (e) => log(`workflow/scheduler error: ${e instanceof Error ? e.message : String(e)}`),
    });
    const apiKeys = new LocalApiKeyIssuer(documents);
    // Partners' OAuth 2.0 server (cognito-local has no client-credentials flow): clients in the
    // document store, the signing key with the other local keys (apart from the data).
    const signingKeyFile = `${dataDir}.keys/oidc-signing-key.json`;
    const oidc = await startLocalOidcProvider({ port: opts.oidcPort ?? 0, documents, signingKeyFile, resourceServerId: PARTNER_EDGE.resourceServerId });
    stops.push(() => oidc.close());
    const oauthClients = new LocalOidcClientRegistry(documents, oidc.tokenEndpoint, PARTNER_EDGE.resourceServerId);
    const container = buildContainer(config, { documents, ids, workflow: workflows.workflow, scheduler: workflows.scheduler, apiKeys, oauthClients });
    bound.container = container;
    authAudit.container = container;
    stops.push(() => workflows.stop());
    // The EventBridge rule's filter: only the staging bucket's objects are ingested, in batches as SQS delivers them.
    const queue = new LocalQueue<StagedObjectEvent>('ingest-events', (events) => processStagedObjects(container, events), documents, {
      batchSize: FILES_INGESTED_TOGETHER,
      onError: (e) => log(`ingest event failed: ${e instanceof Error ? e.message : String(e)}`),
    });
    ingestQueue = queue;
    stops.push(() => queue.stop());
    // Recurring jobs EventBridge Scheduler runs in AWS: audit sealing (every minute locally) and
    // the grant sweep (at start, then hourly).
    const seal = () => runAuditSealing(container).catch((e: unknown) => log(`audit sealing failed: ${e instanceof Error ? e.message : String(e)}`));
    const sweep = () => runDailySweep(container).catch((e: unknown) => log(`grant sweep failed: ${e instanceof Error ? e.message : String(e)}`));
    void seal();
    void sweep();
    // Webhook deliveries from the outbox (the delivery Lambda's one-minute schedule in AWS), one run at a time.
    let delivering = false;
    const deliver = () => {
      if (delivering) return;
      delivering = true;
      void runWebhookDelivery(container)
        .catch((e: unknown) => log(`webhook delivery failed: ${e instanceof Error ? e.message : String(e)}`))
        .finally(() => (delivering = false));
    };
    // R-AUD-5: the alert rules over newly stored audit events (the audit table's stream in AWS),
    // one run at a time, from a durable checkpoint: events not yet evaluated at a stop are evaluated after restart.
    const alertFeed = auditAlertFeedOf(container, (e, eventId) => log(`alert evaluation failed for ${eventId}: ${e instanceof Error ? e.message : String(e)}`));
    let evaluating = false;
    const evaluateAlerts = () => {
      if (evaluating) return;
      evaluating = true;
      void alertFeed
        .run()
        .catch((e: unknown) => log(`alert feed failed: ${e instanceof Error ? e.message : String(e)}`))
        .finally(() => (evaluating = false));
    };
    evaluateAlerts();
    const timers = [setInterval(evaluateAlerts, opts.alertFeedIntervalMs ?? 1_000), setInterval(() => void seal(), 60_000), setInterval(() => void sweep(), 3_600_000), setInterval(deliver, opts.webhookIntervalMs ?? 2_000)];
    stops.push(async () => timers.forEach(clearInterval));

    await workflows.resume();

    const front = await startHttpFront({
      port: opts.apiPort,
      routes,
      handlers: localHandlers(container, process.env.MDRP_LOG_LEVEL ?? 'WARN'),
      container,
      cognito: { issuer: config.identity.issuer, jwksUrl: `${config.identity.issuer}/.well-known/jwks.json`, clientId: state.userPool.userPoolClientId },
      allowedOrigin: webUrl,
      partnerEdge: new PartnerEdgeGate(container.partners, new JoseAccessTokenVerifier({ issuer: oidc.issuer, jwksUrl: oidc.jwksUrl, audience: oidc.audience }), container.clock, new UsageMeter(container.clock)),
    });
    stops.push(() => front.close());

    const webRoot = join(REPO_ROOT, 'web', 'out');
    if (opts.portal !== false && existsSync(join(webRoot, 'index.html'))) {
      const portal = await startPortalServer({
        port: opts.webPort,
        root: webRoot,
        config: {
          apiUrl: front.url,
          region,
          userPoolId: state.userPool.userPoolId,
          userPoolClientId: state.userPool.userPoolClientId,
          userPoolEndpoint: proxy.url,
          institutionTimeZone: 'Asia/Shanghai',
          defaultLocale: 'zh-CN',
          environment: 'local',
          // Presigned staging PUTs go from the browser straight to s3rver (CORS set on the bucket).
          uploadOrigin: endpoints.s3,
        },
      });
      stops.push(() => portal.close());
    } else if (opts.portal !== false) {
      log('portal not built (web/out missing): run `npm run build:web`');
    }

    // A demo partner system with its OAuth client and API key (default usage plan), created once
    // (again for data folders from before partners had OAuth clients).
    if (opts.seed !== false && !state.demoPartner?.clientId) {
      const { partner, apiKey, oauthClient } = await container.partners.onboard(systemActor('demo-setup'), {
        name: 'Demo Cancer Hospital integration',
        institution: 'demo-hospital-2',
        contactEmail: 'integration@demo-hospital-2.example',
        allowedCidrs: ['127.0.0.0/8'],
        scopes: ['catalog.read', 'fhir.read', 'access-requests.read'],
      });
      state.demoPartner = { partnerId: partner.partnerId, apiKey, clientId: oauthClient.clientId, clientSecret: oauthClient.clientSecret };
      writeFileSync(stateFile, JSON.stringify(state, null, 2), { mode: 0o600 });
    }

    let seeded: Promise<void> = Promise.resolve();
    const abortSeed = new AbortController();
    if (opts.seed !== false) {
      seeded = seedDemoData(container, { patients: opts.demoPatients ?? 60, log, signal: abortSeed.signal }).then(
        (r) => {
          if (r) log(`demo data loaded: ${r.patients} patients, ${r.records} records, ${r.files} files`);
        },
        (e: unknown) => log(`demo data could not be loaded: ${e instanceof Error ? e.message : String(e)}`),
      );
      if (opts.waitForSeed) await seeded;
    }

    return {
      apiUrl: front.url,
      webUrl,
      accounts,
      container,
      config,
      cognito: { ...state.userPool, endpoint: endpoints.cognito, browserEndpoint: proxy.url },
      ...(state.demoPartner ? { demoPartner: state.demoPartner } : {}),
      oauth: { issuer: oidc.issuer, tokenEndpoint: oidc.tokenEndpoint, jwksUrl: oidc.jwksUrl, signingKeyFile },
      seeded,
      database,
      stop: async () => {
        abortSeed.abort();
        await seeded;
        await stopAll();
      },
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}
