// The SBOM of one image (SECURITY-CHECKS E1): its Debian packages with their source packages,
// and the app's npm or Python dependencies, as CycloneDX JSON. Deterministic, like the image.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PlannedApp } from '../plan/index.js';
import { renderCycloneDx, npmComponentsFromLock, yarnComponentsFromLock, type SbomInput } from '../sbom/index.js';
import { upstreamOf } from '../plan/python-deps.js';
import { bulwarkVersion } from '../version.js';

export function sbomInputFor(planned: PlannedApp, epoch: number): SbomInput {
  const app = planned.plan;
  const dir = app.spec.dir;
  const debian = planned.resolved.flatMap((r) =>
    r.packages.map((p) => ({ name: p.name, version: p.version, arch: p.arch, source: p.source, sourceVersion: p.sourceVersion, sha256: p.sha256, suite: p.suite, layer: r.def.name })),
  );
  let npm: SbomInput['npm'] = [];
  if (existsSync(join(dir, 'package-lock.json'))) npm = npmComponentsFromLock(JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')));
  else if (existsSync(join(dir, 'yarn.lock'))) npm = yarnComponentsFromLock(readFileSync(join(dir, 'yarn.lock'), 'utf8'));
  // Python dependencies are Debian packages: name them as the app asked for them, and by the Debian package.
  const python: SbomInput['python'] = (planned.resolved.find((r) => r.def.name === 'app-packages')?.packages ?? [])
    .filter((p) => p.name.startsWith('python3-'))
    .map((p) => ({ name: p.name.slice('python3-'.length), version: upstreamOf(p.version), debianPackage: p.name }));
  return {
    app: app.spec.name,
    version: app.contentHash.slice(0, 16),
    created: new Date(epoch * 1000).toISOString(),
    bulwarkVersion,
    debian,
    npm,
    python,
  };
}

export const renderImageSbom = (planned: PlannedApp, epoch: number) => renderCycloneDx(sbomInputFor(planned, epoch));
