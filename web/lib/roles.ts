/**
 * Role-aware navigation and task lists. Pure data so it can be unit-tested; hiding an entry is
 * a convenience only — the API's authorization engine decides every call (R-GOV-7).
 */

/** Roles carried in `/v1/me` (Cognito groups). */
export const ROLES = [
  'researcher',
  'data-manager',
  'reviewer',
  'ethics-reviewer',
  'approver',
  'data-owner',
  'security-admin',
  'auditor',
  'data-provider',
] as const;

/** One of {@link ROLES}. */
export type Role = (typeof ROLES)[number];

/** Identifier of a navigation area; doubles as the message key under `nav.*`. */
export type AreaId =
  | 'home'
  | 'patients'
  | 'accessRequests'
  | 'reviewQueue'
  | 'grants'
  | 'audit'
  | 'ingestion'
  | 'partners'
  | 'dataAccess'
  | 'timeline'
  | 'policies'
  | 'reidentification';

/** A top-level area of the portal. */
export interface Area {
  id: AreaId;
  href: string;
  /** Roles that see the entry; `'all'` for every signed-in user. */
  roles: readonly Role[] | 'all';
}

/** All areas in header order. Routes end with `/` because the export uses `trailingSlash`. */
export const AREAS: readonly Area[] = [
  { id: 'home', href: '/', roles: 'all' },
  { id: 'patients', href: '/patients/', roles: ['researcher', 'data-manager', 'data-provider', 'reviewer'] },
  { id: 'accessRequests', href: '/access-requests/', roles: ['researcher', 'approver', 'ethics-reviewer', 'security-admin', 'auditor'] },
  // Access-request decisions (ethics, approval chain) and, for data reviewers, record review.
  { id: 'reviewQueue', href: '/review-queue/', roles: ['reviewer', 'ethics-reviewer', 'approver', 'data-owner', 'security-admin'] },
  // Researchers see their own grants; approvers, security admins and auditors see all (R-GOV-5, R-GOV-6).
  { id: 'grants', href: '/grants/', roles: ['researcher', 'approver', 'security-admin', 'auditor'] },
  // Only auditors and security admins read audit logs [R-AUD-2, R-AUD-4].
  { id: 'audit', href: '/audit/', roles: ['auditor', 'security-admin'] },
  { id: 'ingestion', href: '/ingestion/', roles: ['data-manager', 'data-provider'] },
  { id: 'partners', href: '/partners/', roles: ['security-admin'] },
  // "Who accessed my data" for the institutions that provide it (R-AUD-4, R-GOV-6).
  { id: 'dataAccess', href: '/data-access/', roles: ['data-provider', 'data-owner'] },
  // Timeline curation on the research side (R-MPI-4, R-ANA-2).
  { id: 'timeline', href: '/timeline/', roles: ['data-manager'] },
  // Controlled re-identification (R-DEID-3): requesters, and the two approving roles.
  { id: 'reidentification', href: '/reidentification/', roles: ['researcher', 'ethics-reviewer', 'security-admin'] },
  // Runtime Cedar policy changes and rollback (R-GOV-7); auditors read only.
  { id: 'policies', href: '/policies/', roles: ['security-admin', 'auditor'] },
];

/** Type guard for {@link Role}. */
export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** Areas visible to a user holding `roles` (unknown role strings are ignored). */
export function areasForRoles(roles: readonly string[]): Area[] {
  const known = roles.filter(isRole);
  return AREAS.filter((area) => area.roles === 'all' || area.roles.some((r) => known.includes(r)));
}

/** A task shown on the home page; `id` is the message key under `tasks.*`. */
export interface Task {
  id: string;
  href: string;
}

/** What each role typically does, linking to the area where it is done. */
export const TASKS_BY_ROLE: Readonly<Record<Role, readonly Task[]>> = {
  researcher: [
    { id: 'searchData', href: '/patients/' },
    { id: 'requestAccess', href: '/access-requests/' },
    { id: 'myGrants', href: '/grants/' },
  ],
  'data-manager': [
    { id: 'runIngestion', href: '/ingestion/' },
    { id: 'resolveDuplicates', href: '/patients/' },
  ],
  reviewer: [{ id: 'reviewRecords', href: '/review-queue/' }],
  'ethics-reviewer': [{ id: 'ethicsReview', href: '/review-queue/' }],
  approver: [
    { id: 'approveAccess', href: '/review-queue/' },
    { id: 'trackRequests', href: '/access-requests/' },
  ],
  'data-owner': [{ id: 'ownerApproval', href: '/review-queue/' }],
  'security-admin': [
    { id: 'managePartners', href: '/partners/' },
    { id: 'reviewPermissions', href: '/grants/' },
    { id: 'auditConsole', href: '/audit/' },
  ],
  auditor: [
    { id: 'auditConsole', href: '/audit/' },
    { id: 'grantOverview', href: '/grants/' },
  ],
  'data-provider': [
    { id: 'uploadData', href: '/ingestion/' },
    { id: 'enterRecords', href: '/patients/' },
  ],
};

/** Tasks for a user, grouped by role in the order the roles are given. */
export function tasksForRoles(roles: readonly string[]): Array<{ role: Role; tasks: readonly Task[] }> {
  const seen = new Set<Role>();
  const groups: Array<{ role: Role; tasks: readonly Task[] }> = [];
  for (const role of roles) {
    if (!isRole(role) || seen.has(role)) continue;
    seen.add(role);
    groups.push({ role, tasks: TASKS_BY_ROLE[role] });
  }
  return groups;
}
