// What the console's pages show, checked over HTTP against a registry seeded through /v2:
// namespaces (a list, a namespace view, breadcrumbs, one statement per page in the store), one
// answer to "is it signed" on the repository and image pages (a cosign-style .sig tag that is no
// cosign signature included), attached tags in the image page's tree, artifact types as the OCI
// spec defines them, full pull commands, one search box per behaviour, shared and unique bytes,
// dates and minutes per language, the JSON twins' immutable and trust marks and /api/v1/settings,
// and the Secure cookie flag behind a TLS-terminating proxy (berth.ui.securecookies).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { pushBlob, putManifest, sha256, startTestRegistry, OCI_INDEX, OCI_MANIFEST, type TestRegistry } from '../http/harness.ts';
import { basic, startHtpasswdRegistry, type AuthRegistry } from '../auth/harness.ts';
import { ConsoleClient } from '../helpers/console-client.ts';
import { translator } from '../../src/console/i18n/index.ts';
import { en as englishCatalogue } from '../../src/console/i18n/en/index.ts';
import { requestIsSecure } from '../../src/console/http/router.ts';
import type { IncomingMessage } from 'node:http';

const CREATED = '2024-03-05T06:07:08Z';
const SIG_ARTIFACT = 'application/vnd.dev.cosign.artifact.sig.v1+json';
const SBOM = 'application/spdx+json';

interface Pushed {
  digest: string;
  size: number;
}

/** An image with one layer; `shared` is a layer's bytes that another repository may push too. */
async function image(base: string, repo: string, tag: string | undefined, o: { created?: string; layer?: Buffer; artifactType?: string; subject?: Pushed; configType?: string } = {}): Promise<Pushed> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', ...(o.created && { created: o.created }), rootfs: { type: 'layers', diff_ids: [] }, n: randomBytes(6).toString('hex') }));
  const layer = o.layer ?? randomBytes(400);
  const cd = await pushBlob(base, repo, config);
  const ld = await pushBlob(base, repo, layer);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      ...(o.artifactType && { artifactType: o.artifactType }),
      config: { mediaType: o.configType ?? 'application/vnd.oci.image.config.v1+json', digest: cd, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: ld, size: layer.length }],
      ...(o.subject && { subject: { mediaType: OCI_MANIFEST, digest: o.subject.digest, size: o.subject.size } }),
    }),
  );
  const digest = sha256(manifest);
  const res = await putManifest(base, repo, tag ?? digest, manifest, OCI_MANIFEST);
  assert.equal(res.status, 201, await res.text());
  return { digest, size: manifest.length };
}

async function index(base: string, repo: string, tag: string, children: { m: Pushed; arch: string }[]): Promise<Pushed> {
  const bytes = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: children.map((c) => ({ mediaType: OCI_MANIFEST, digest: c.m.digest, size: c.m.size, platform: { os: 'linux', architecture: c.arch } })) }),
  );
  const res = await putManifest(base, repo, tag, bytes, OCI_INDEX);
  assert.equal(res.status, 201, await res.text());
  return { digest: sha256(bytes), size: bytes.length };
}

const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

describe('console views (no authentication)', () => {
  let registry: TestRegistry;
  let base: string;
  let multi: Pushed;
  let plain: Pushed;
  let sbom: Pushed;
  let sigTag: string;
  const shared = randomBytes(3000);
  before(async () => {
    registry = await startTestRegistry((c) => {
      c.berth.lifecycle.immutableTags = [{ repositories: ['team/app'], tags: ['^v1$'] }];
    });
    base = registry.url;
    // team/app: a two-platform index tagged v1 and latest, signed cosign-style by a plain image
    // under sha256-<hex>.sig (the seed the browser test uses: no cosign simple-signing layer).
    const amd = await image(base, 'team/app', undefined, { created: CREATED, layer: shared });
    const arm = await image(base, 'team/app', undefined, { created: CREATED });
    multi = await index(base, 'team/app', 'v1', [
      { m: amd, arch: 'amd64' },
      { m: arm, arch: 'arm64' },
    ]);
    assert.equal((await putManifest(base, 'team/app', 'latest', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: amd.digest, size: amd.size, platform: { os: 'linux', architecture: 'amd64' } }, { mediaType: OCI_MANIFEST, digest: arm.digest, size: arm.size, platform: { os: 'linux', architecture: 'arm64' } }] })), OCI_INDEX)).status, 201);
    sigTag = `${multi.digest.replace(':', '-')}.sig`;
    await image(base, 'team/app', sigTag);
    // team/plain: a plain image, with an SBOM referrer (an artifact with its own type).
    plain = await image(base, 'team/plain', 'v1', { created: CREATED, layer: shared });
    sbom = await image(base, 'team/plain', undefined, { artifactType: SBOM, subject: plain, configType: 'application/vnd.oci.empty.v1+json' });
    // More namespaces, and a repository in none.
    await image(base, 'other/tool', 'v1');
    await image(base, 'other/deep/tool', 'v1');
    await image(base, 'toplevel', 'v1');
  });
  after(() => registry?.stop());

  it('lists namespaces with counts, narrows the list to one, and links repositories back to theirs', async () => {
    const b = new ConsoleClient(base);
    const ns = await b.page('/ui/namespaces');
    assert.match(ns, /<nav class="tabs"/);
    const rows = [...ns.matchAll(/<tr><th scope="row"><a class="mono" href="\/ui\/\?namespace=([^"]+)">[^<]+<\/a><\/th><td class="num" data-value="(\d+)"/g)].map((m) => [m[1], Number(m[2])]);
    assert.deepEqual(rows, [
      ['other', 2],
      ['team', 2],
    ]);
    const list = await b.page('/ui/?namespace=team');
    assert.match(list, /<h1>Namespace team<\/h1>/);
    const listed = [...list.matchAll(/<a href="\/ui\/repo\/([^"]+)" class="mono">/g)].map((m) => m[1]);
    assert.deepEqual(listed, ['team/app', 'team/plain']);
    // The namespace column links every repository to its namespace; toplevel has none.
    const all = await b.page('/ui/');
    assert.match(all, /<a class="mono" href="\/ui\/\?namespace=other%2Fdeep">other\/deep<\/a>/);
    assert.match(all, /<a href="\/ui\/repo\/toplevel" class="mono">/);
    // Breadcrumbs: Repositories / other / deep from the repository and image pages.
    const repo = await b.page('/ui/repo/other/deep/tool');
    assert.match(repo, /<nav class="breadcrumbs"[^>]*><ol><li><a href="\/ui\/">Repositories<\/a><\/li><li><a href="\/ui\/\?namespace=other">other<\/a><\/li><li><a href="\/ui\/\?namespace=other%2Fdeep">deep<\/a><\/li><\/ol>/);
    const img = await b.page(`/ui/repo/team/plain/-/manifest/${plain.digest}`);
    assert.match(img, /<li><a href="\/ui\/\?namespace=team">team<\/a><\/li><li><a href="\/ui\/repo\/team\/plain">plain<\/a><\/li>/);
    // JSON twins.
    const nsJson = (await (await fetch(`${base}/api/v1/repositories/-/namespaces?limit=1`)).json()) as { items: { name: string; repositoryCount: number }[]; next?: string };
    assert.deepEqual(nsJson.items, [{ name: 'other', repositoryCount: 2, visibility: null }]);
    const next = (await (await fetch(`${base}/api/v1/repositories/-/namespaces?limit=1&cursor=${nsJson.next}`)).json()) as { items: { name: string }[]; next?: string };
    assert.deepEqual(next.items.map((n) => n.name), ['team']);
    assert.equal(next.next, undefined);
    const inNs = (await (await fetch(`${base}/api/v1/repositories?namespace=other`)).json()) as { items: { name: string }[] };
    assert.deepEqual(inNs.items.map((r) => r.name), ['other/deep/tool', 'other/tool']);
  });

  it('says "signed" on both pages for the same reason, and lists cosign tags in the image page tree', async () => {
    const b = new ConsoleClient(base);
    const repo = await b.page('/ui/repo/team/app');
    assert.match(repo, /<tr data-row="v1">[\s\S]*?badge-signed[\s\S]*?<\/tr>/);
    assert.ok(repo.includes(sigTag), 'the .sig tag is listed under its subject');
    const img = await b.page(`/ui/repo/team/app/-/manifest/${multi.digest}`);
    const plainText = text(img);
    assert.doesNotMatch(plainText, /no signature of any kind/);
    assert.doesNotMatch(plainText, /Nothing is attached/);
    // The summary carries the same badge as the tag row; the tree has the tag; the card the row.
    assert.match(img, /<dt>Signature<\/dt><dd> <span class="badge badge-signed"/);
    assert.match(img, new RegExp(`<ul class="tree" id="referrers"><li><span class="badge badge-muted">signature</span> <a class="mono" href="/ui/repo/team/app/-/manifest/sha256:[0-9a-f]+">sha256:[0-9a-f]{12}</a> <span class="muted mono">${sigTag.replace(/\./g, '\\.')}</span> <span class="muted">\\(by cosign tag\\)</span>`));
    assert.match(img, /<table class="data" id="signatures">[\s\S]*signature tag[\s\S]*not checked[\s\S]*No cosign simple-signing layer/);
    // The accessory's own page says what it is attached to.
    const sigDigest = /href="\/ui\/repo\/team\/app\/-\/manifest\/(sha256:[0-9a-f]+)">sha256:[0-9a-f]{12}<\/a> <span class="muted mono">[^<]*\.sig/.exec(img)![1]!;
    const sigPage = await b.page(`/ui/repo/team/app/-/manifest/${sigDigest}`);
    assert.match(sigPage, new RegExp(`<dt>Attached to</dt><dd><a class="mono" href="/ui/repo/team/app/-/manifest/${multi.digest}">`));
    // JSON: the same verdict on the tag, the image and its accessories.
    const repoJson = (await (await fetch(`${base}/api/v1/repositories/team/app`)).json()) as { tags: { items: { name: string; signed: boolean; trust: string | null; immutable: boolean }[] } };
    const byName = new Map(repoJson.tags.items.map((t) => [t.name, t]));
    assert.equal(byName.get('v1')?.trust, 'signed');
    assert.equal(byName.get('v1')?.immutable, true);
    assert.equal(byName.get('latest')?.immutable, false);
    const imgJson = (await (await fetch(`${base}/api/v1/repositories/team/app/-/manifests/${multi.digest}`)).json()) as { trust: string | null; detail: { signed: boolean; accessories: { tag?: string; kind: string }[] } };
    assert.equal(imgJson.trust, 'signed');
    assert.equal(imgJson.detail.signed, true);
    assert.deepEqual(imgJson.detail.accessories.map((a) => [a.kind, a.tag]), [['signature', sigTag]]);
    // An unsigned image says so on both.
    const plainJson = (await (await fetch(`${base}/api/v1/repositories/team/plain`)).json()) as { tags: { items: { trust: string | null }[] } };
    assert.equal(plainJson.tags.items[0]?.trust, null);
    assert.match(text(await b.page(`/ui/repo/team/plain/-/manifest/${plain.digest}`)), /Signature none/);
  });

  it('shows the artifact type only for artifacts, and headings at heading size', async () => {
    const b = new ConsoleClient(base);
    const img = await b.page(`/ui/repo/team/plain/-/manifest/${plain.digest}`);
    assert.doesNotMatch(img, /Artifact type/);
    assert.doesNotMatch(img, /application\/vnd\.oci\.image\.config\.v1\+json<\/dd>/);
    const art = await b.page(`/ui/repo/team/plain/-/manifest/${sbom.digest}`);
    assert.match(art, /<dt>Artifact type<\/dt><dd class="mono">application\/spdx\+json<\/dd>/);
    // On the repository page, a plain image's kind and its SBOM's type.
    const repo = await b.page('/ui/repo/team/plain');
    assert.doesNotMatch(repo, /vnd\.oci\.image\.config/);
    assert.match(repo, /SBOM<\/span> <a class="mono"[^>]*>sha256:[0-9a-f]{12}<\/a> <span class="muted">application\/spdx\+json/);
    // The image page's h1 is not wrapped in .mono (12px) and the stylesheet keeps heading sizes.
    assert.match(img, /<h1 class="heading-mono">team\/plain <span class="muted">@sha256:/);
    assert.doesNotMatch(img, /<h1><span class="mono">/);
    const css = await (await fetch(base + /href="(\/ui\/static\/[^"]+\.css)"/.exec(img)![1]!)).text();
    assert.match(css, /:is\(h1,h2,h3,h4\) \.mono\{font-size:inherit\}/);
    assert.doesNotMatch(/\.heading-mono\{([^}]*)\}/.exec(css)![1]!, /font-size/, 'the h1 keeps h1 { font-size }');
    // .mono's 12px never lands on a heading itself (the admin pages' h1 with a user, team or robot name).
    assert.doesNotMatch(/(?:^|\})\.mono\{([^}]*)\}/.exec(css)![1]!, /font-size/);
    assert.match(css, /\.mono:not\(h1,\s?h2,\s?h3,\s?h4\)\{font-size:12px\}/);
  });

  it('shows an artifact its files and config media type, not an empty image configuration', async () => {
    const b = new ConsoleClient(base);
    const art = await b.page(`/ui/repo/team/plain/-/manifest/${sbom.digest}`);
    assert.doesNotMatch(art, /id="config-title"/, 'no Configuration card');
    assert.doesNotMatch(art, /Created by|Total \(compressed\)/);
    assert.match(art, /<h2 id="layers-title">Files \(1\)<\/h2>/);
    assert.match(text(art), /application\/vnd\.oci\.image\.layer\.v1\.tar\+gzip/);
    assert.match(art, /Config media type: <span class="mono">application\/vnd\.oci\.empty\.v1\+json<\/span>/);
    const json = (await (await fetch(`${base}/api/v1/repositories/team/plain/-/manifests/${sbom.digest}`)).json()) as { config?: unknown; configMediaType: string };
    assert.equal(json.config, undefined);
    assert.equal(json.configMediaType, 'application/vnd.oci.empty.v1+json');
    // The image keeps its configuration and layers.
    const img = await b.page(`/ui/repo/team/plain/-/manifest/${plain.digest}`);
    assert.match(img, /<h2 id="config-title">Configuration<\/h2>/);
    assert.match(img, /<h2 id="layers-title">Layers \(1\)<\/h2>/);
  });

  it('says counts with plural forms in English from the catalogue, and none in Chinese', () => {
    const en = translator('en');
    assert.equal(en.t('repo.deleteTagsConfirm', { n: 1 }), 'Delete 1 tag');
    assert.equal(en.t('repo.deleteTagsConfirm', { n: 3 }), 'Delete 3 tags');
    assert.equal(en.t('repo.deleteTagsTitle', { n: 1 }), 'Delete 1 tag?');
    assert.equal(en.t('repo.deleteRepoBody', { tags: 1 }), 'Its 1 tag and every manifest go. This cannot be undone.');
    assert.equal(en.t('repo.deleteRepoBody', { tags: 2 }), 'All 2 tags and every manifest go. This cannot be undone.');
    assert.equal(en.t('repo.deleteRepoBody', { tags: 0 }), 'It has no tags; every manifest goes. This cannot be undone.');
    assert.equal(en.t('image.history', { n: 1 }), 'History (1 step)');
    assert.equal(en.t('repo.sameDigest', { n: 1 }), '+1 more tag on this digest');
    // Formatted numbers (t.number) count by their digits; several counts in one message.
    assert.equal(
      en.t('adminLifecycle.retention.previewSummary', { tags: en.number(1), manifests: en.number(1234), repositories: '1', evaluated: 2 }),
      'A run now would delete 1 tag and 1,234 manifests in 1 repository (2 repositories are under a policy). Nothing has been deleted.',
    );
    assert.equal(translator('zh-CN').t('repo.deleteTagsConfirm', { n: 1 }), '删除 1 个标签');
    // No English message leaves a plural or a placeholder unreplaced, or a "(s)".
    const catalogue: Record<string, string> = englishCatalogue;
    for (const [key, message] of Object.entries(catalogue)) {
      assert.doesNotMatch(message, /\w\(s\)/, key);
      if (!message.includes(', plural,')) continue;
      const names = [...message.matchAll(/\{(\w+)/g)].map((m) => m[1]!);
      for (const n of [0, 1, 2, 21]) {
        const out = en.t(key as keyof typeof englishCatalogue, Object.fromEntries(names.map((name) => [name, n])));
        assert.doesNotMatch(out, /[{}#]/, `${key} with ${n}: ${out}`);
      }
    }
  });

  it('shows pull commands whole: the code box wraps instead of cutting them off', async () => {
    const b = new ConsoleClient(base);
    const repo = await b.page('/ui/repo/team/app');
    const host = new URL(base).host;
    for (const m of repo.matchAll(/<div class="copy-row"><span class="copy-label">[^<]*<\/span><code tabindex="0">([^<]*)<\/code><button[^>]*data-copy="([^"]*)"/g)) {
      assert.equal(m[1], m[2], 'the button copies exactly what is shown');
      assert.ok(m[1]!.includes(host), m[1]);
    }
    const css = await (await fetch(base + /href="(\/ui\/static\/[^"]+\.css)"/.exec(repo)![1]!)).text();
    const rule = /\.copy-row code\{([^}]*)\}/.exec(css)![1]!;
    assert.match(rule, /white-space:pre-wrap/);
    assert.match(rule, /overflow-wrap:anywhere/);
    assert.doesNotMatch(rule, /nowrap/);
  });

  it('has one search box on the repositories page: the header searches everything, a namespace has a filter of its own', async () => {
    const b = new ConsoleClient(base);
    const searches = (html: string) => [...html.matchAll(/<input type="search" id="([^"]+)"[^>]*placeholder="([^"]*)"/g)].map((m) => [m[1], m[2]]);
    const all = await b.page('/ui/?q=tool');
    assert.deepEqual(searches(all).map(([id]) => id), ['site-search']);
    assert.match(all, /id="site-search" name="q" value="tool"/);
    assert.match(all, /<input type="hidden" name="q" value="tool">/, 'sorting keeps the search');
    const inNs = await b.page('/ui/?namespace=other&q=deep');
    const boxes = searches(inNs);
    assert.deepEqual(boxes.map(([id]) => id), ['site-search', 'repo-q']);
    assert.notEqual(boxes[0]![1], boxes[1]![1], 'different placeholders');
    assert.match(inNs, /<label for="repo-q">Filter other by name<\/label>/);
    assert.match(inNs, /id="site-search" name="q" value=""/, 'the header box is not the namespace filter');
    assert.deepEqual([...inNs.matchAll(/<a href="\/ui\/repo\/([^"]+)" class="mono">/g)].map((m) => m[1]), ['other/deep/tool']);
  });

  it('splits a repository size into unique and shared bytes', async () => {
    const b = new ConsoleClient(base);
    const repo = text(await b.page('/ui/repo/team/plain'));
    const t = translator('en');
    assert.ok(repo.includes(`Shared ${t.bytes(3000)}`), repo);
    const json = (await (await fetch(`${base}/api/v1/repositories/team/plain`)).json()) as { summary: { size: number }; storage: { shared: number; unique: number } };
    assert.equal(json.storage.shared, 3000, 'the layer team/app pushed as well');
    assert.equal(json.storage.unique, json.summary.size - 3000);
    const other = (await (await fetch(`${base}/api/v1/repositories/other/tool`)).json()) as { summary: { size: number }; storage: { shared: number; unique: number } };
    assert.deepEqual(other.storage, { shared: 0, unique: other.summary.size });
  });

  it('formats the config time and the settings minutes in the page language', async () => {
    const ms = Date.parse(CREATED);
    for (const lang of ['en', 'zh-CN'] as const) {
      const b = new ConsoleClient(base, lang);
      const img = await b.page(`/ui/repo/team/plain/-/manifest/${plain.digest}`);
      const shown = translator(lang).dateTime(ms);
      assert.ok(img.includes(`<time datetime="${new Date(ms).toISOString()}" title="${CREATED}">${shown}</time>`), `${lang}: ${shown}`);
      assert.ok(!img.includes(`>${CREATED}<`), 'not the raw string');
      const settings = text(await b.page('/ui/settings'));
      if (lang === 'zh-CN') {
        assert.match(settings, /\d+ 分钟/);
        assert.doesNotMatch(settings, /\d+ min\b/);
      } else assert.match(settings, /\d+ min\b/);
    }
  });

  it('has a JSON twin of the settings page with the same data', async () => {
    const res = await fetch(`${base}/api/v1/settings`);
    assert.equal(res.status, 200);
    const s = (await res.json()) as { domain: { clientsUse: string }; storage: { driver: string; root: string }; metadata: { driver: string; database: string }; tls: unknown; gc: { intervalMinutes: number } };
    assert.equal(s.storage.driver, 'filesystem');
    assert.equal(s.storage.root, registry.root);
    assert.equal(s.metadata.driver, 'sqlite');
    assert.equal(s.tls, null);
    assert.equal(s.domain.clientsUse, new URL(base).host);
    const page = await (await fetch(`${base}/ui/settings`)).text();
    assert.ok(page.includes(`<dd class="mono">${s.metadata.database}</dd>`));
    assert.ok(text(page).includes(`${s.gc.intervalMinutes} min`));
    // No authentication: a short badge (badges do not wrap) and the explanation as a hint under it.
    assert.match(page, /<span class="badge badge-warn">No authentication<\/span><\/p><p class="hint">Anyone who can reach the registry may push and pull\./);
    assert.equal((await fetch(`${base}/api/v1/settings`, { method: 'POST' })).status, 405);
  });

  it('lists a cosign tag whose image has no tag left as a tag of its own, so it can be seen and deleted', async () => {
    const img = await image(base, 'orphans', 'gone');
    const sig = `${img.digest.replace(':', '-')}.sig`;
    await image(base, 'orphans', sig);
    const b = new ConsoleClient(base);
    const row = new RegExp(`<tr data-row="${sig.replace(/\./g, '\\.')}">`);
    let repo = await b.page('/ui/repo/orphans');
    assert.match(repo, /<tr data-row="gone">/);
    assert.doesNotMatch(repo, row, 'shown under its image while that has a tag');
    const count = async () => ((await (await fetch(`${base}/api/v1/repositories?q=orphans`)).json()) as { items: { tagCount: number }[] }).items[0]!.tagCount;
    assert.equal(await count(), 1);
    const res = await fetch(`${base}/v2/orphans/manifests/gone`, { method: 'DELETE' });
    assert.equal(res.status, 202);
    repo = await b.page('/ui/repo/orphans');
    assert.match(repo, row);
    assert.equal(await count(), 1, 'the orphan counts as a tag now');
    const json = (await (await fetch(`${base}/api/v1/repositories/orphans`)).json()) as { tags: { items: { name: string }[] } };
    assert.deepEqual(json.tags.items.map((t) => t.name), [sig]);
  });
});

describe('console access on the new views (htpasswd, access control)', () => {
  let registry: AuthRegistry;
  const admin = basic('admin', 'admin-pw');
  before(async () => {
    registry = await startHtpasswdRegistry({ admin: 'admin-pw', bob: 'bob-pw' }, (c) => {
      c.berth.auth.accessControl = { enabled: true, admins: ['admin'] };
    });
    const push = async (repo: string) => {
      const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, n: randomBytes(4).toString('hex') }));
      const layer = randomBytes(100);
      for (const blob of [config, layer]) {
        const r = await fetch(`${registry.url}/v2/${repo}/blobs/uploads/?digest=${sha256(blob)}`, { method: 'POST', headers: { authorization: admin, 'content-type': 'application/octet-stream' }, body: new Uint8Array(blob) });
        assert.equal(r.status, 201, await r.text());
      }
      const manifest = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layer), size: layer.length }] });
      const r = await fetch(`${registry.url}/v2/${repo}/manifests/v1`, { method: 'PUT', headers: { authorization: admin, 'content-type': OCI_MANIFEST }, body: manifest });
      assert.equal(r.status, 201, await r.text());
    };
    for (const repo of ['open/one', 'open/two', 'closed/three']) await push(repo);
    const put = await fetch(`${registry.url}/api/v1/namespaces/open`, { method: 'PUT', headers: { authorization: admin, 'content-type': 'application/json' }, body: JSON.stringify({ visibility: 'public' }) });
    assert.equal(put.status, 200, await put.text());
  });
  after(() => registry?.stop());

  it('shows anonymous visitors only the public namespace, without counts; an admin sees all with counts', async () => {
    const anon = new ConsoleClient(registry.url);
    const page = await anon.page('/ui/namespaces');
    assert.deepEqual([...page.matchAll(/\?namespace=([^"]+)"/g)].map((m) => m[1]), ['open']);
    assert.match(page, /data-value="-1"><span class="muted" title="Counted only for viewers who may see every repository">-<\/span>/);
    assert.match(page, /badge-public/);
    assert.equal((await anon.get('/ui/?namespace=closed')).status, 200);
    assert.doesNotMatch(await anon.page('/ui/?namespace=closed'), /closed\/three/);
    const json = (await (await fetch(`${registry.url}/api/v1/repositories/-/namespaces`, { headers: { authorization: admin } })).json()) as { items: { name: string; repositoryCount: number; visibility: string }[] };
    assert.deepEqual(json.items, [
      { name: 'closed', repositoryCount: 1, visibility: 'private' },
      { name: 'open', repositoryCount: 2, visibility: 'public' },
    ]);
    const bob = (await (await fetch(`${registry.url}/api/v1/repositories/-/namespaces`, { headers: { authorization: basic('bob', 'bob-pw') } })).json()) as { items: { name: string; repositoryCount: number | null }[] };
    assert.deepEqual(bob.items, [{ name: 'open', repositoryCount: null, visibility: 'public' }]);
  });

  it('answers /api/v1/settings to whoever may see the settings page', async () => {
    assert.equal((await fetch(`${registry.url}/api/v1/settings`, { headers: { authorization: admin } })).status, 200);
    assert.equal((await fetch(`${registry.url}/ui/settings`)).status, 200);
    assert.equal((await fetch(`${registry.url}/api/v1/settings`)).status, 200);
    const s = (await (await fetch(`${registry.url}/api/v1/settings`)).json()) as { auth: { kind: string }[] };
    assert.deepEqual(s.auth.map((a) => a.kind), ['htpasswd', 'accesscontrol']);
    assert.doesNotMatch(JSON.stringify(s), /admin-pw|\$2[aby]\$/, 'no password or hash');
  });
});

describe('Secure cookies behind a TLS-terminating proxy (berth.ui.securecookies)', () => {
  const req = (encrypted: boolean, proto?: string | string[]) => ({ socket: { encrypted }, headers: proto === undefined ? {} : { 'x-forwarded-proto': proto } }) as unknown as IncomingMessage;

  it('decides from the socket, and from X-Forwarded-Proto only when the proxy is trusted', () => {
    assert.equal(requestIsSecure(req(true), 'auto'), true);
    assert.equal(requestIsSecure(req(false), 'auto'), false);
    assert.equal(requestIsSecure(req(false, 'https'), 'auto'), false, 'anyone can send the header: not believed by default');
    assert.equal(requestIsSecure(req(false, 'https'), 'forwarded'), true);
    assert.equal(requestIsSecure(req(false, 'HTTPS'), 'forwarded'), true);
    assert.equal(requestIsSecure(req(false, 'http'), 'forwarded'), false);
    assert.equal(requestIsSecure(req(false, 'https, http'), 'forwarded'), false, 'the last value: the proxy nearest berth');
    assert.equal(requestIsSecure(req(false, 'http, https'), 'forwarded'), true);
    assert.equal(requestIsSecure(req(false), 'forwarded'), false);
    assert.equal(requestIsSecure(req(false), 'always'), true);
  });

  for (const mode of ['auto', 'forwarded', 'always'] as const) {
    it(`marks the session cookie Secure as ${mode} says`, async () => {
      const registry = await startHtpasswdRegistry({ admin: 'admin-pw' }, (c) => {
        c.berth.ui.secureCookies = mode;
      });
      try {
        for (const proto of [undefined, 'https']) {
          const headers: Record<string, string> = proto ? { 'x-forwarded-proto': proto } : {};
          const login = await fetch(`${registry.url}/ui/login`, { headers });
          const visitor = login.headers.getSetCookie().find((c) => c.startsWith('berth_visitor=')) ?? login.headers.getSetCookie()[0]!;
          const csrf = /name="_csrf" value="([^"]+)"/.exec(await login.text())![1]!;
          const res = await fetch(`${registry.url}/ui/login`, {
            method: 'POST',
            headers: { ...headers, cookie: visitor.split(';')[0]!, 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ _csrf: csrf, username: 'admin', password: 'admin-pw', next: '/ui/' }),
            redirect: 'manual',
          });
          assert.equal(res.status, 303);
          const session = res.headers.getSetCookie().find((c) => c.startsWith('berth_session='))!;
          const expected = mode === 'always' || (mode === 'forwarded' && proto === 'https');
          assert.equal(/;\s*Secure/i.test(session), expected, `${mode}, X-Forwarded-Proto ${proto ?? 'absent'}: ${session}`);
          assert.equal(/;\s*Secure/i.test(visitor), expected, `visitor cookie, ${mode}, ${proto ?? 'absent'}`);
        }
      } finally {
        await registry.stop();
      }
    });
  }

  it('reads berth.ui.securecookies from config.yml and the environment, and refuses other values', async () => {
    const { ConfigError, loadConfig } = await import('../../src/config/index.ts');
    const yml = (v: string) => `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /tmp/x\nberth:\n  ui:\n    securecookies: ${v}\n`;
    assert.equal(loadConfig({ text: 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /tmp/x\n', env: {} }).config.berth.ui.secureCookies, 'auto');
    assert.equal(loadConfig({ text: yml('forwarded'), env: {} }).config.berth.ui.secureCookies, 'forwarded');
    assert.equal(loadConfig({ text: yml('Always'), env: {} }).config.berth.ui.secureCookies, 'always');
    assert.equal(loadConfig({ env: { REGISTRY_BERTH_UI_SECURECOOKIES: 'forwarded' } }).config.berth.ui.secureCookies, 'forwarded');
    assert.throws(() => loadConfig({ text: yml('yes'), env: {} }), ConfigError);
  });
});
