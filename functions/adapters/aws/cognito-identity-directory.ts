import {
  AdminListGroupsForUserCommand,
  ListUsersCommand,
  ListUsersInGroupCommand,
  type AttributeType,
  type CognitoIdentityProviderClient,
  type UserType,
} from '@aws-sdk/client-cognito-identity-provider';
import { isRole } from '../../core/identity/actor';
import type { DirectoryUser, IdentityDirectory } from '../../core/ports/identity-directory';

/** Cognito user pool adapter of the identity directory (cognito-local on one machine). */
export class CognitoIdentityDirectory implements IdentityDirectory {
  constructor(
    private readonly cognito: CognitoIdentityProviderClient,
    private readonly userPoolId: string,
  ) {}

  async getUser(username: string): Promise<DirectoryUser | undefined> {
    const out = await this.cognito.send(new ListUsersCommand({ UserPoolId: this.userPoolId, Filter: `username = "${username.replace(/"/g, '')}"`, Limit: 1 }));
    const user = out.Users?.[0];
    return user ? this.toUser(user) : undefined;
  }

  async listUsers(): Promise<DirectoryUser[]> {
    const users: UserType[] = [];
    let token: string | undefined;
    do {
      const out = await this.cognito.send(new ListUsersCommand({ UserPoolId: this.userPoolId, PaginationToken: token }));
      users.push(...(out.Users ?? []));
      token = out.PaginationToken;
    } while (token);
    return Promise.all(users.map((u) => this.toUser(u)));
  }

  async listUsersInRole(role: string): Promise<DirectoryUser[]> {
    const out = await this.cognito.send(new ListUsersInGroupCommand({ UserPoolId: this.userPoolId, GroupName: role }));
    return Promise.all((out.Users ?? []).map((u) => this.toUser(u)));
  }

  private async toUser(u: UserType): Promise<DirectoryUser> {
    const attr = (name: string) => u.Attributes?.find((a: AttributeType) => a.Name === name)?.Value;
    const groups = await this.cognito.send(new AdminListGroupsForUserCommand({ UserPoolId: this.userPoolId, Username: u.Username! }));
    return {
      userId: attr('sub') ?? u.Username!,
      username: u.Username!,
      displayName: attr('name') ?? u.Username!,
      email: attr('email'),
      roles: (groups.Groups ?? []).map((g) => g.GroupName ?? '').filter(isRole),
      institution: attr('custom:institution') ?? '',
      enabled: u.Enabled !== false,
      mfaEnabled: (u.MFAOptions?.length ?? 0) > 0,
    };
  }
}
