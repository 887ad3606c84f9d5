// The internal CA for VM images served without a domain (SECURITY-CHECKS C5: "a local CA").
// Made once per project by the openssl binary, in <project>/.bulwark/ca/:
//   root.key          the root's key: 0600, never copied into an image (an offline root)
//   root.crt          what clients trust; exported next to each disk as bulwark-root-ca.crt
//   intermediate.*    goes into the image (INTERNAL_CA_DIR) so Caddy can issue its own leaf
//                     certificates at run time (the leaf keys are made on the machine, on its
//                     data disk). It is name-constrained to localhost and loopback addresses, so
//                     a copy of the image can mint nothing a client would accept for another name.
// Kept across builds: clients that trust the root keep working, and the disk stays the same.
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../build/proc.js';
import { INTERNAL_CA_DIR, type TreeFile } from './host-spec.js';

export interface InternalCa {
  dir: string;
  rootCert: string;
  intermediateCert: string;
  intermediateKey: string;
}

/** The names the intermediate may certify (X.509 name constraints; OpenSSL, Go and browsers enforce them). */
export const INTERNAL_NAMES = ['DNS:localhost', 'DNS:.localhost', 'IP:127.0.0.0/255.0.0.0', 'IP:0:0:0:0:0:0:0:1/FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF'];

function extensions(): string {
  return [
    '[root]',
    'basicConstraints = critical, CA:TRUE',
    'keyUsage = critical, keyCertSign, cRLSign',
    'subjectKeyIdentifier = hash',
    '',
    '[intermediate]',
    'basicConstraints = critical, CA:TRUE, pathlen:0',
    'keyUsage = critical, keyCertSign, cRLSign, digitalSignature',
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid:always',
    `nameConstraints = critical, ${INTERNAL_NAMES.map((n) => `permitted;${n}`).join(', ')}`,
    '',
  ].join('\n');
}

const openssl = (args: string[]) => run('openssl', args, { timeoutMs: 60_000, missingHint: 'apt-get install openssl' });

/** The project's internal CA, made on first use. */
export async function ensureInternalCa(projectDir: string, label: string): Promise<InternalCa> {
  const dir = join(projectDir, '.bulwark', 'ca');
  const ca: InternalCa = { dir, rootCert: join(dir, 'root.crt'), intermediateCert: join(dir, 'intermediate.crt'), intermediateKey: join(dir, 'intermediate.key') };
  if ([ca.rootCert, ca.intermediateCert, ca.intermediateKey, join(dir, 'root.key')].every((f) => existsSync(f))) return ca;
  await mkdir(join(projectDir, '.bulwark'), { recursive: true });
  const tmp = `${dir}.${process.pid}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { mode: 0o700 });
  try {
    const ext = join(tmp, 'ext.cnf');
    await writeFile(ext, extensions());
    const subj = (cn: string) => `/O=Bulwark/CN=${cn.replace(/[/=]/g, '-')}`;
    await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', join(tmp, 'root.key')]);
    await openssl(['req', '-new', '-x509', '-sha256', '-days', '3650', '-key', join(tmp, 'root.key'), '-subj', subj(`Bulwark internal root (${label})`), '-config', ext, '-extensions', 'root', '-out', join(tmp, 'root.crt')]);
    await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', join(tmp, 'intermediate.key')]);
    await openssl(['req', '-new', '-sha256', '-key', join(tmp, 'intermediate.key'), '-subj', subj(`Bulwark internal intermediate (${label})`), '-out', join(tmp, 'intermediate.csr')]);
    await openssl(['x509', '-req', '-sha256', '-days', '1825', '-in', join(tmp, 'intermediate.csr'), '-CA', join(tmp, 'root.crt'), '-CAkey', join(tmp, 'root.key'), '-set_serial', `0x${Date.now().toString(16)}`, '-extfile', ext, '-extensions', 'intermediate', '-out', join(tmp, 'intermediate.crt')]);
    await rm(join(tmp, 'intermediate.csr'));
    await rm(ext);
    for (const f of ['root.key', 'intermediate.key']) await chmod(join(tmp, f), 0o600);
    await writeFile(join(tmp, 'README'), 'Bulwark\'s internal CA for this project (VM images served without a domain).\nroot.key never leaves this folder: keep it secret, or delete the folder to make a new CA.\nClients trust root.crt (exported next to each disk as bulwark-root-ca.crt).\n');
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  return ca;
}

/** The CA files in the image: the root and intermediate certificates, the intermediate's key for Caddy only. */
export async function internalCaFiles(ca: InternalCa): Promise<TreeFile[]> {
  const dir = INTERNAL_CA_DIR.slice(1);
  return [
    { path: `${dir}/root.crt`, mode: 0o644, content: await readFile(ca.rootCert, 'utf8') },
    { path: `${dir}/intermediate.crt`, mode: 0o644, content: await readFile(ca.intermediateCert, 'utf8') },
    // 0640 root:caddy is set by the system disk build (the caddy group only exists in the tree).
    { path: `${dir}/intermediate.key`, mode: 0o640, content: await readFile(ca.intermediateKey, 'utf8') },
  ];
}
