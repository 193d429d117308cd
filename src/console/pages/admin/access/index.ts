// Administration: access control. Each area is a small file here; this one lists them for the
// overview and routes to them:
//   /users       accounts, their teams, grants and tokens          users.ts
//   /teams       teams and memberships                             teams.ts
//   /permissions role grants on namespaces and repositories        permissions.ts
//   /namespaces  namespace visibility                              namespaces.ts
//   /robots      robot accounts (secret shown once)                robots.ts
//   /tokens      personal access tokens (secret shown once)        tokens.ts
//   /ldap        LDAP settings (read-only) and a test login        ldap.ts
//   /audit       the audit log with filters                        audit.ts
// Everything but /ldap needs berth.auth.accesscontrol; without it these pages explain how to turn
// it on. The router has already checked that the viewer is a site administrator, and the CSRF
// token of every POST.
import { html, type Html } from '../../../html.ts';
import type { Flash, PageContext } from '../../../page.ts';
import type { AdminArea, AdminOutcome } from '../index.ts';
import { adminHref, adminLayout } from './shared.ts';
import { usersArea } from './users.ts';
import { teamsArea } from './teams.ts';
import { permissionsArea } from './permissions.ts';
import { namespacesArea } from './namespaces.ts';
import { robotsArea } from './robots.ts';
import { tokensArea } from './tokens.ts';
import { ldapArea } from './ldap.ts';
import { auditArea } from './audit.ts';

type AreaHandler = (ctx: PageContext, rest: string[], form: URLSearchParams | undefined, flash: Flash | undefined) => Promise<AdminOutcome>;

const AREAS: Record<string, { handler: AreaHandler; needsAccess: boolean }> = {
  users: { handler: usersArea, needsAccess: true },
  teams: { handler: teamsArea, needsAccess: true },
  permissions: { handler: permissionsArea, needsAccess: true },
  namespaces: { handler: namespacesArea, needsAccess: true },
  robots: { handler: robotsArea, needsAccess: true },
  tokens: { handler: tokensArea, needsAccess: true },
  ldap: { handler: ldapArea, needsAccess: false },
  audit: { handler: auditArea, needsAccess: true },
};

export const ACCESS_AREAS = (_ctx: PageContext): AdminArea[] => [
  { path: '/users', title: 'adminAccess.users.title', description: 'adminAccess.users.description' },
  { path: '/teams', title: 'adminAccess.teams.title', description: 'adminAccess.teams.description' },
  { path: '/permissions', title: 'adminAccess.permissions.title', description: 'adminAccess.permissions.description' },
  { path: '/namespaces', title: 'adminAccess.namespaces.title', description: 'adminAccess.namespaces.description' },
  { path: '/robots', title: 'adminAccess.robots.title', description: 'adminAccess.robots.description' },
  { path: '/tokens', title: 'adminAccess.tokens.title', description: 'adminAccess.tokens.description' },
  { path: '/ldap', title: 'adminAccess.ldap.title', description: 'adminAccess.ldap.description' },
  { path: '/audit', title: 'adminAccess.audit.title', description: 'adminAccess.audit.description' },
];

/** The outcome for a path below /ui/admin that belongs here, or undefined. */
export async function accessAdmin(ctx: PageContext, sub: string, form: URLSearchParams | undefined, flash: Flash | undefined): Promise<AdminOutcome | undefined> {
  const parts = sub.split('/').filter(Boolean);
  const area = parts.length ? AREAS[parts[0]] : undefined;
  if (!area || !Object.hasOwn(AREAS, parts[0])) return undefined;
  if (area.needsAccess && !ctx.deps.access) return { html: await accessOffPage(ctx, flash), status: form ? 409 : 200 };
  return area.handler(ctx, parts.slice(1), form, flash);
}

/** What the access areas show when berth.auth.accesscontrol is off: what it is and how to turn it on. */
async function accessOffPage(ctx: PageContext, flash: Flash | undefined): Promise<Html> {
  const { t } = ctx;
  const admin = ctx.viewer.name ?? 'admin';
  const snippet = `berth:
  auth:
    accesscontrol:
      enabled: true
      admins: [${admin}]`;
  const body = html`<h1>${t.t('adminAccess.off.title')}</h1>
<p>${t.t('adminAccess.off.body')}</p>
<p>${ctx.deps.authEnabled ? t.t('adminAccess.off.now') : t.t('adminAccess.off.nowOpen')}</p>
<section class="card" aria-labelledby="how-title"><h2 id="how-title">${t.t('adminAccess.off.how')}</h2>
<p>${t.t('adminAccess.off.step1')}</p>
<pre class="code" tabindex="0" aria-label="${t.t('adminAccess.off.snippetLabel')}">${snippet}</pre>
<p>${t.t('adminAccess.off.step2')}</p>
${ctx.deps.authEnabled ? '' : html`<p>${t.t('adminAccess.off.step3')}</p>`}
<p>${t.t('adminAccess.off.metadata')}</p></section>
<p><a href="${adminHref(ctx, '/ldap')}">${t.t('adminAccess.off.ldapLink')}</a></p>`;
  return adminLayout(ctx, t.t('adminAccess.off.title'), body, { flash });
}
