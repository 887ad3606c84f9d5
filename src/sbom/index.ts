// SBOM (SECURITY-CHECKS E1): inputs, lockfile readers, package URLs and the CycloneDX rendering.
export type { SbomInput } from './types.js';
export { renderCycloneDx, hashesFromIntegrity, contentUuid } from './cyclonedx.js';
export { npmComponentsFromLock, yarnComponentsFromBerryLock, yarnComponentsFromClassicLock, yarnComponentsFromLock, type NpmComponent } from './lockfiles.js';
export { debPurl, npmPurl, pypiPurl, pypiName, suiteBase } from './purl.js';
