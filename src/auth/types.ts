// The seams of authentication and authorization. Requests are authenticated into a Principal
// (who), then every registry operation asks the AccessController whether that principal may
// perform the actions on the repositories involved (what). Credentials come from several
// places (htpasswd, LDAP, personal access tokens, robot accounts, bearer tokens issued by
// berth's token service or a trusted external issuer); each is a small implementation of one of
// these interfaces, so the HTTP layer never knows where a user came from.

/** Actions of the Docker token scope grammar (`repository:<name>:pull,push,delete`), plus admin. */
export type Action = 'pull' | 'push' | 'delete' | '*';

/** Roles granted on a namespace or repository; each includes the ones before it. */
export type Role = 'read' | 'write' | 'delete' | 'admin';

export interface Principal {
  /** Stable name: the htpasswd/LDAP user name, `robot$<name>`, or the subject of a trusted token. */
  name: string;
  kind: 'user' | 'robot' | 'anonymous';
  /** Where the identity was established: 'htpasswd', 'ldap', 'token', 'pat', 'robot', 'external-token'. */
  via: string;
  /** Teams (organizations) the principal belongs to, e.g. from LDAP groups. */
  teams: string[];
  /** A site administrator (manages users, teams and permissions everywhere). */
  admin: boolean;
  /**
   * Limits carried by the credential itself (a personal access token or robot account scoped to
   * some repositories and actions, or the scopes of a bearer token). Undefined = no extra limit
   * beyond the principal's own permissions.
   */
  restrictedTo?: ScopeGrant[];
}

/** `repository:team/app:pull,push` and its kin, parsed. */
export interface ScopeGrant {
  type: 'repository' | 'registry';
  /** A repository name, `*`, or a namespace prefix pattern such as `team/*`; `catalog` for registry scope. */
  name: string;
  actions: Action[];
}

export interface AccessRequest {
  repository: string;
  actions: Action[];
}

export interface AccessController {
  /** The subset of the requested actions the principal may perform on the repository. */
  allowedActions(principal: Principal, repository: string, wanted: Action[]): Promise<Action[]>;
  /** Whether the principal may see a repository in the catalog (it can pull from it). */
  canList(principal: Principal, repository: string): Promise<boolean>;
}

/** Checks a user name and password (htpasswd file, LDAP, a personal access token...). */
export interface PasswordVerifier {
  readonly name: string;
  /** The principal when the credentials are valid; undefined when this verifier does not know them. */
  verify(username: string, password: string): Promise<Principal | undefined>;
}

/** Thrown when a verifier knows the user but cannot answer (directory down): not a wrong password. */
export class AuthBackendError extends Error {}
