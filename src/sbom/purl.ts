// Package URLs (https://github.com/package-url/purl-spec) for the three kinds of component.
// Each segment is percent-encoded ('+' → %2B, '@' → %40; '~' stays), qualifiers sorted by key.

const enc = (s: string) => encodeURIComponent(s);

function qualifiers(q: Record<string, string | undefined>): string {
  const parts = Object.keys(q)
    .filter((k) => q[k])
    .sort()
    .map((k) => `${k}=${enc(q[k]!)}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

/** "trixie-security" → "trixie". */
export const suiteBase = (suite: string) => suite.replace(/-(security|updates|proposed-updates|backports)$/, '');

/**
 * pkg:deb/debian/<name>@<version>?arch=<arch>&distro=debian-<suite>[&epoch=N]. The epoch goes
 * to an `epoch` qualifier and out of the version (as Trivy writes it); the component's own
 * `version` field keeps the full Debian version.
 */
export function debPurl(p: { name: string; version: string; arch: string; suite: string }): string {
  const m = p.version.match(/^(\d+):(.*)$/);
  const epoch = m && m[1] !== '0' ? m[1] : undefined;
  const version = m ? m[2]! : p.version;
  return `pkg:deb/debian/${enc(p.name.toLowerCase())}@${enc(version)}${qualifiers({ arch: p.arch, distro: `debian-${suiteBase(p.suite)}`, epoch })}`;
}

/** pkg:npm/<name>@<version>; a scope is the namespace, its '@' encoded: pkg:npm/%40scope/name@v. */
export function npmPurl(p: { name: string; version: string }): string {
  const slash = p.name.indexOf('/');
  const path = p.name.startsWith('@') && slash > 0 ? `${enc(p.name.slice(0, slash))}/${enc(p.name.slice(slash + 1))}` : enc(p.name);
  return `pkg:npm/${path}@${enc(p.version)}`;
}

/** PEP 503 normalized name, as purl-spec asks for pypi: lowercase, runs of -_. as '-'. */
export const pypiName = (name: string) => name.toLowerCase().replace(/[-_.]+/g, '-');

export function pypiPurl(p: { name: string; version: string }): string {
  return `pkg:pypi/${enc(pypiName(p.name))}@${enc(p.version)}`;
}
