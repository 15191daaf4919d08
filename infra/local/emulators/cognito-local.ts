import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminGetUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  CreateGroupCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  DescribeUserPoolCommand,
  ListGroupsCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROLES } from '../../../functions/core/identity/actor';
import { spawnManaged, waitForPort, type ManagedProcess } from './process-utils';

/**
 * Starts cognito-local as a child process (it keeps its config and data in `./.cognito` of its
 * working directory, here the data folder). Plain usernames, issuer on 127.0.0.1. With
 * `triggerEndpoint`, the pool's pre-token-generation trigger is the function of that name behind a
 * local Lambda `Invoke` endpoint (./cognito-triggers.ts), as the deployed pool's trigger is.
 */
export async function startCognitoLocal(opts: {
  port: number;
  dataDir: string;
  triggerEndpoint?: { url: string; preTokenGeneration: string };
  onOutput?: (l: string) => void;
}): Promise<ManagedProcess> {
  const cfgDir = join(opts.dataDir, '.cognito');
  mkdirSync(join(cfgDir, 'db'), { recursive: true });
  const triggers = opts.triggerEndpoint
    ? {
        LambdaClient: { endpoint: opts.triggerEndpoint.url, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } },
        TriggerFunctions: { PreTokenGeneration: opts.triggerEndpoint.preTokenGeneration },
      }
    : {};
  writeFileSync(
    join(cfgDir, 'config.json'),
    JSON.stringify({ UserPoolDefaults: { UsernameAttributes: [] }, TokenConfig: { IssuerDomain: `http://127.0.0.1:${opts.port}` }, ...triggers }, null, 2),
  );
  const bin = createRequire(import.meta.url).resolve('cognito-local/lib/bin/start.js');
  const proc = spawnManaged(process.execPath, [bin], { cwd: opts.dataDir, env: { ...process.env, PORT: String(opts.port), HOST: '127.0.0.1' } }, opts.onOutput);
  // Generous: on a busy machine (parallel test runs) node takes well over 20 s to load cognito-local.
  await waitForPort(opts.port, 90_000, proc.child);
  return proc;
}

export interface DemoAccount {
  role: string;
  username: string;
  password: string;
  displayName: string;
  institution: string;
}

export interface UserPoolSetup {
  userPoolId: string;
  userPoolClientId: string;
}

/** Creates the user pool, portal client and role groups, unless `existing` still describes them. */
export async function ensureUserPool(client: CognitoIdentityProviderClient, existing?: UserPoolSetup): Promise<UserPoolSetup> {
  if (existing) {
    try {
      await client.send(new DescribeUserPoolCommand({ UserPoolId: existing.userPoolId }));
      return existing;
    } catch {
      // The data folder was reset: create a new pool.
    }
  }
  const pool = await client.send(
    new CreateUserPoolCommand({
      PoolName: 'mdrp-local',
      Policies: { PasswordPolicy: { MinimumLength: 12, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true, RequireSymbols: true } },
      MfaConfiguration: 'OPTIONAL',
      Schema: [{ Name: 'institution', AttributeDataType: 'String', Mutable: true }],
    }),
  );
  const userPoolId = pool.UserPool!.Id!;
  const app = await client.send(
    new CreateUserPoolClientCommand({
      UserPoolId: userPoolId,
      ClientName: 'mdrp-portal',
      ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_ADMIN_USER_PASSWORD_AUTH'],
    }),
  );
  const groups = await client.send(new ListGroupsCommand({ UserPoolId: userPoolId }));
  for (const role of ROLES) {
    if (!groups.Groups?.some((g) => g.GroupName === role)) await client.send(new CreateGroupCommand({ UserPoolId: userPoolId, GroupName: role }));
  }
  return { userPoolId, userPoolClientId: app.UserPoolClient!.ClientId! };
}

/** Creates a demo user with a permanent password and its role group (idempotent). */
export async function ensureDemoUser(client: CognitoIdentityProviderClient, userPoolId: string, account: DemoAccount): Promise<void> {
  try {
    await client.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: account.username }));
    return;
  } catch {
    // not there yet
  }
  await client.send(
    new AdminCreateUserCommand({
      UserPoolId: userPoolId,
      Username: account.username,
      MessageAction: 'SUPPRESS',
      UserAttributes: [
        { Name: 'name', Value: account.displayName },
        { Name: 'email', Value: `${account.username}@demo.mdrp.local` },
        { Name: 'email_verified', Value: 'true' },
        { Name: 'custom:institution', Value: account.institution },
      ],
    }),
  );
  await client.send(new AdminSetUserPasswordCommand({ UserPoolId: userPoolId, Username: account.username, Password: account.password, Permanent: true }));
  await client.send(new AdminAddUserToGroupCommand({ UserPoolId: userPoolId, Username: account.username, GroupName: account.role }));
}
