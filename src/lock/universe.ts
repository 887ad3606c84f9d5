// Load the package universe for a suite: the suite, -updates and -security indexes, verified.
import { loadSuiteIndex, suiteSources } from './archive.js';
import { buildUniverse, type Universe } from './resolve.js';

export async function loadUniverse(suite: string, mirror: string, securityMirror: string): Promise<Universe> {
  const idx = await Promise.all(suiteSources(suite, mirror, securityMirror).map((s) => loadSuiteIndex(s.baseUrl, s.suite)));
  return buildUniverse(idx);
}
