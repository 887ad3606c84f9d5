// What a build container gets from the host for the duration of the build only: the host's
// CA store (plus --build-ca), so fetches work behind an HTTPS-intercepting proxy, and the
// proxy variables. None of it is copied into an image layer.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { usageError } from '../types.js';

const HOST_CA_CANDIDATES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];
const PROXY_VARS = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'];
export const BUILD_CA_PATH = '/run/bulwark/build-ca.crt';

export interface BuildEnv {
  /** docker run arguments: -v and -e. */
  dockerArgs: string[];
}

/** Write the CA bundle into `tmpDir` and return the docker run arguments that expose it. */
export async function prepareBuildEnv(tmpDir: string, buildCa?: string): Promise<BuildEnv> {
  const parts: string[] = [];
  const host = HOST_CA_CANDIDATES.find((p) => existsSync(p));
  if (host) parts.push(await readFile(host, 'utf8'));
  if (buildCa) {
    if (!existsSync(buildCa)) throw usageError(`--build-ca ${buildCa}: no such file`);
    const pem = await readFile(buildCa, 'utf8');
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw usageError(`--build-ca ${buildCa}: not a PEM certificate file`);
    parts.push(pem);
  }
  const args: string[] = [];
  if (parts.length) {
    const bundle = join(tmpDir, 'build-ca.crt');
    await writeFile(bundle, parts.join('\n'));
    args.push('-v', `${bundle}:${BUILD_CA_PATH}:ro`, '-e', `NODE_EXTRA_CA_CERTS=${BUILD_CA_PATH}`, '-e', `npm_config_cafile=${BUILD_CA_PATH}`,
      '-e', `SSL_CERT_FILE=${BUILD_CA_PATH}`, '-e', `PIP_CERT=${BUILD_CA_PATH}`, '-e', `REQUESTS_CA_BUNDLE=${BUILD_CA_PATH}`);
  }
  for (const v of PROXY_VARS) if (process.env[v]) args.push('-e', `${v}=${process.env[v]}`);
  return { dockerArgs: args };
}
