/** A platform user as the identity provider knows them. */
export interface DirectoryUser {
  userId: string;
  username: string;
  displayName: string;
  email?: string;
  roles: string[];
  institution: string;
  enabled: boolean;
  mfaEnabled: boolean;
}

/** Identity port (Cognito user pool in AWS, cognito-local on one machine). */
export interface IdentityDirectory {
  getUser(username: string): Promise<DirectoryUser | undefined>;
  listUsers(): Promise<DirectoryUser[]>;
  listUsersInRole(role: string): Promise<DirectoryUser[]>;
}
