import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMS } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { join } from 'node:path';
import { ApiGatewayKeyIssuer } from '../adapters/aws/api-gateway-key-issuer';
import { CognitoOAuthClientRegistry } from '../adapters/aws/cognito-oauth-client-registry';
import { PARTNER_EDGE } from '../core/partners/usage-plans';
import type { OAuthClientRegistry } from '../core/ports/oauth-client-registry';
import { CognitoIdentityDirectory } from '../adapters/aws/cognito-identity-directory';
import { KmsDigestSigner } from '../adapters/aws/kms-digest-signer';
import { LocalDigestSigner } from '../adapters/local/local-digest-signer';
import { DynamoDocumentStore } from '../adapters/aws/dynamo-document-store';
import { EventBridgeScheduler } from '../adapters/aws/eventbridge-scheduler';
import { KmsKeyProvider } from '../adapters/aws/kms-key-provider';
import { S3ObjectStore } from '../adapters/aws/s3-object-store';
import { SfnWorkflowEngine } from '../adapters/aws/sfn-workflow-engine';
import { SnsAlertNotifier } from '../adapters/aws/sns-alert-notifier';
import { LocalKeyProvider, loadOrCreateLocalKeys } from '../adapters/local/local-key-provider';
import { loadPolicyBundle } from '../adapters/shared/load-policies';
import { RandomIdGenerator } from '../adapters/shared/random-id-generator';
import { AccessRequestService } from '../core/access/access-request-service';
import { GrantService } from '../core/access/grant-service';
import { ResearchAccessService } from '../core/access/research-access-service';
import { AuditAlertEvaluator } from '../core/audit/audit-alert-evaluator';
import { AuditChain } from '../core/audit/audit-chain';
import { AuditTrail } from '../core/audit/audit-trail';
import type { DigestSigner } from '../core/ports/digest-signer';
import { CedarAuthorizer } from '../core/authz/cedar-authorizer';
import { PolicyAdministration } from '../core/authz/policy-administration';
import { ReloadingAuthorizer } from '../core/authz/reloading-authorizer';
import { GrantRenewals } from '../core/access/grant-renewal';
import { RequestDocumentService } from '../core/access/request-documents';
import { CatalogService } from '../core/catalog/catalog-service';
import { PartnerService } from '../core/partners/partner-service';
import { withWebhookOutbox } from './integration-services';
import type { ApiKeyIssuer } from '../core/ports/api-key-issuer';
import { IngestLineage } from '../core/ingestion/ingest-lineage';
import { FhirIngestor } from '../core/ingestion/fhir-ingestor';
import { DicomIngestor } from '../core/ingestion/dicom-ingestor';
import { DocumentIngestor } from '../core/ingestion/document-ingestor';
import { IngestJobs } from '../core/ingestion/ingest-support';
import { IngestRouter } from '../core/ingestion/ingest-router';
import { TableIngestor } from '../core/ingestion/table-ingestor';
import { PdfJsDocumentParser } from '../adapters/shared/pdfjs-document-parser';
import { YauzlArchiveReader } from '../adapters/shared/yauzl-archive-reader';
import { ExcelJsSpreadsheetReader } from '../adapters/shared/exceljs-spreadsheet-reader';
import { PdfKitDocumentRenderer } from '../adapters/shared/pdfkit-document-renderer';
import { FilePreviewService } from '../core/access/file-preview-service';
import { TimelineCuration } from '../core/patients/timeline-curation';
import { UploadService } from '../core/ingestion/upload-service';
import { PatientIndex } from '../core/patients/patient-index';
import { ResearchRecords } from '../core/patients/research-records';
import { MedplumFhirValidator } from '../adapters/shared/medplum-fhir-validator';
import { FanOutNotifier } from '../core/notifications/fan-out-notifier';
import { InboxNotifier } from '../core/notifications/inbox-notifier';
import { systemClock, type Clock } from '../core/ports/clock';
import type { DocumentStore } from '../core/ports/document-store';
import type { IdGenerator } from '../core/ports/id-generator';
import type { IdentityDirectory } from '../core/ports/identity-directory';
import type { KeyProvider } from '../core/ports/key-provider';
import type { ObjectStore } from '../core/ports/object-store';
import type { Scheduler } from '../core/ports/scheduler';
import type { WorkflowEngine } from '../core/ports/workflow-engine';
import type { PlatformConfig } from './config';

/** Everything a handler or job needs, built once per cold start (or once by the local runtime). */
export interface Container {
  config: PlatformConfig;
  clock: Clock;
  ids: IdGenerator;
  documents: DocumentStore;
  objects: ObjectStore;
  keys: KeyProvider;
  workflow: WorkflowEngine;
  scheduler: Scheduler;
  directory: IdentityDirectory;
  notifier: InboxNotifier;
  audit: AuditTrail;
  /** Alert rules (R-AUD-5), run off the request path on stored events (stream / local feed). */
  auditAlerts: AuditAlertEvaluator;
  auditChain: AuditChain;
  /** The Cedar authorizer of the current stored policy version (reloaded on change, R-GOV-7). */
  authorizer: ReloadingAuthorizer;
  /** Runtime policy changes: versions, validation, rollback. */
  policies: PolicyAdministration;
  /** Governance documents of access requests (R-GOV-9). */
  requestDocuments: RequestDocumentService;
  /** Grant renewal requests (continuing review, R-GOV-5). */
  grantRenewals: GrantRenewals;
  catalog: CatalogService;
  uploads: UploadService;
  ingest: FhirIngestor;
  ingestLineage: IngestLineage;
  /** Every pipeline behind one entry point, chosen by content type (FHIR, DICOM, documents, tables). */
  ingestRouter: IngestRouter;
  dicomIngest: DicomIngestor;
  documentIngest: DocumentIngestor;
  tableIngest: TableIngestor;
  patientIndex: PatientIndex;
  research: ResearchRecords;
  grants: GrantService;
  accessRequests: AccessRequestService;
  researchAccess: ResearchAccessService;
  /** Timeline curation by data managers: add, edit (versioned), annotate (R-MPI-4, R-ANA-2). */
  timeline: TimelineCuration;
  /** De-identified inline previews of released files (R-ANA-2). */
  previews: FilePreviewService;
  partners: PartnerService;
}

/** Adapters the local runtime supplies itself (those without an emulator), and test doubles. */
export interface ContainerOverrides {
  clock?: Clock;
  ids?: IdGenerator;
  documents?: DocumentStore;
  objects?: ObjectStore;
  keys?: KeyProvider;
  workflow?: WorkflowEngine;
  scheduler?: Scheduler;
  directory?: IdentityDirectory;
  apiKeys?: ApiKeyIssuer;
  /** Partner OAuth clients (the local runtime: its OIDC provider; AWS: Cognito app clients). */
  oauthClients?: OAuthClientRegistry;
  digestSigner?: DigestSigner;
}

/**
 * The one composition root, for Lambda and the local runtime alike. AWS adapters are used
 * wherever an emulator exists (DynamoDB Local, s3rver, cognito-local are addressed through
 * `config.endpoints`); local adapters only where none does (keys, workflow runner, scheduler).
 *
 * @example
 * const container = buildContainer(configFromEnv(process.env));
 */
export function buildContainer(config: PlatformConfig, overrides: ContainerOverrides = {}): Container {
  const sdk = (endpoint?: string) => ({
    region: config.region,
    ...(endpoint ? { endpoint } : {}),
    ...(config.localCredentials ? { credentials: config.localCredentials } : {}),
  });
  const clock = overrides.clock ?? systemClock;
  const ids = overrides.ids ?? new RandomIdGenerator();
  const documents = overrides.documents ?? new DynamoDocumentStore(new DynamoDBClient(sdk(config.endpoints?.dynamodb)), config.tables);
  const objects =
    overrides.objects ??
    new S3ObjectStore(new S3Client({ ...sdk(config.endpoints?.s3), forcePathStyle: Boolean(config.endpoints?.s3) }), config.buckets);
  const keys = overrides.keys ?? keyProvider(config, sdk());
  const workflow = overrides.workflow ?? workflowEngine(config, sdk());
  const scheduler = overrides.scheduler ?? scheduler_(config, sdk());
  const directory = overrides.directory ?? new CognitoIdentityDirectory(new CognitoIdentityProviderClient(sdk(config.endpoints?.cognito)), config.identity.userPoolId);
  const catalog = new CatalogService(documents);
  const notifier = new InboxNotifier(documents, clock, ids);
  const shippedPolicies = loadPolicyBundle(join(config.assetsDir, 'policies'));
  const policies = new PolicyAdministration(documents, shippedPolicies, clock);
  const authorizer = new ReloadingAuthorizer(policies, new CedarAuthorizer(shippedPolicies, () => clock.now()), () => clock.now(), config.policyReloadTtlMs);
  // R-INT-1: request and grant changes of partners write their webhook deliveries in the same transaction.
  const accessStore = withWebhookOutbox(documents, keys, clock, ids, config);
  const grants = new GrantService(accessStore, scheduler, notifier, clock, ids);
  const patientIndex = new PatientIndex(documents, keys, clock, ids);
  const research = new ResearchRecords(documents, objects, keys, clock);
  const fhirValidator = new MedplumFhirValidator();
  const ingest = new FhirIngestor(documents, patientIndex, research, catalog, fhirValidator, clock, ids);
  const dicomIngest = new DicomIngestor(documents, patientIndex, research, catalog, clock, ids, new YauzlArchiveReader());
  const documentIngest = new DocumentIngestor(documents, patientIndex, research, catalog, new PdfJsDocumentParser(), clock, ids);
  const tableIngest = new TableIngestor(documents, patientIndex, research, catalog, fhirValidator, clock, ids, new ExcelJsSpreadsheetReader());
  const researchAccess = new ResearchAccessService(documents, grants, research, keys, clock, authorizer);
  const accessRequests = new AccessRequestService(accessStore, catalog, workflow, grants, notifier, authorizer, clock, config.reviewTimeoutSeconds, researchAccess);
  return {
    config,
    clock,
    ids,
    documents,
    objects,
    keys,
    workflow,
    scheduler,
    directory,
    notifier,
    // One conditional put per event on the request path; the alert rules (R-AUD-5) run on the
    // stored events asynchronously (audit-alerts handler: DynamoDB Stream in AWS, feed locally).
    audit: new AuditTrail(documents, clock),
    // Alerts go to the security admins' inbox, and in AWS to their SNS topic too (ids only).
    auditAlerts: new AuditAlertEvaluator(documents, config.notifications.auditAlertsTopicArn ? new FanOutNotifier([notifier, new SnsAlertNotifier(new SNSClient(sdk()), config.notifications.auditAlertsTopicArn)]) : notifier),
    auditChain: new AuditChain({ store: documents, objects, signer: overrides.digestSigner ?? digestSigner(config, sdk()), clock }),
    authorizer,
    catalog,
    uploads: new UploadService(documents, objects, catalog, clock, ids, keys),
    ingest,
    ingestLineage: new IngestLineage(ingest, research),
    ingestRouter: new IngestRouter({ fhir: ingest, dicom: dicomIngest, document: documentIngest, table: tableIngest }, new IngestJobs(documents, clock), ids, () => new Date(clock.now()).toISOString()),
    dicomIngest,
    documentIngest,
    tableIngest,
    patientIndex,
    research,
    grants,
    partners: new PartnerService(
      documents,
      overrides.apiKeys ?? new ApiGatewayKeyIssuer(new APIGatewayClient(sdk()), config.stage),
      overrides.oauthClients ??
        new CognitoOAuthClientRegistry(new CognitoIdentityProviderClient(sdk(config.endpoints?.cognito)), { userPoolId: config.identity.userPoolId, resourceServerId: PARTNER_EDGE.resourceServerId, ...(config.identity.partnerTokenEndpoint ? { tokenEndpoint: config.identity.partnerTokenEndpoint } : {}) }),
      scheduler,
      clock,
      ids,
    ),
    accessRequests,
    policies,
    requestDocuments: new RequestDocumentService(documents, objects, keys, authorizer, clock, accessRequests),
    grantRenewals: new GrantRenewals(grants, accessRequests, clock),
    researchAccess,
    timeline: new TimelineCuration(documents, research, clock, ids),
    previews: new FilePreviewService(documents, researchAccess, research, keys, new PdfJsDocumentParser(), new PdfKitDocumentRenderer()),
  };
}

function keyProvider(config: PlatformConfig, sdk: { region: string }): KeyProvider {
  if (config.keys.kind === 'local') return new LocalKeyProvider(loadOrCreateLocalKeys(config.keys.keyFile));
  return new KmsKeyProvider(new KMS(sdk), config.keys);
}

function workflowEngine(config: PlatformConfig, sdk: { region: string }): WorkflowEngine {
  if (config.workflow.kind === 'local') throw new Error('the local runtime must supply its workflow engine');
  return new SfnWorkflowEngine(new SFNClient(sdk), { stateMachineArns: { 'access-request': config.workflow.accessRequestStateMachineArn } });
}

function scheduler_(config: PlatformConfig, sdk: { region: string }): Scheduler {
  if (config.scheduler.kind === 'local') throw new Error('the local runtime must supply its scheduler');
  return new EventBridgeScheduler(new SchedulerClient(sdk), config.scheduler);
}

function digestSigner(config: PlatformConfig, sdk: { region: string }): DigestSigner {
  if (config.keys.kind === 'local') return new LocalDigestSigner(loadOrCreateLocalKeys(config.keys.keyFile).auditSigningKeyPem);
  return new KmsDigestSigner(new KMS(sdk), config.keys.auditSigningKeyArn);
}
