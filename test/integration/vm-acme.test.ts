// Integration: ACME for real. An Express site with a domain (bulwark.hcl `domains`) is built with
// --acme-directory pointing at Debian's pebble (an RFC 8555 test server) on this machine's
// 127.0.0.1, booted in QEMU, and obtains its certificate from pebble by itself:
//   VM (Caddy) ──guestfwd 10.0.2.100:14000──▶ nc ──▶ pebble on 127.0.0.1:<port>
//   pebble ──resolves the domain with pebble-challtestsrv (→ 127.0.0.1)──▶ 127.0.0.1:<hostfwd> ──▶ VM:80/443
// so pebble validates the challenge against the VM, on 127.0.0.1 only. The certificate served on
// 443 must then verify against pebble's root, for the domain.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { connect } from 'node:tls';
import { run } from '../../src/build/proc.js';
import { freeLocalPort, probeAccelerator } from '../../src/vm/qemu.js';
import { bulwark, example, withTimeout } from '../helpers.js';
import { bootSystemDisk, httpsCall, waitHttps } from './vm-live.js';
import type { Artifact } from '../../src/types.js';

const DOMAIN = 'notes.bulwark.test';
const GUEST_IP = '10.0.2.100';

function start(cmd: string, args: string[], env: NodeJS.ProcessEnv, log: string[]): ChildProcess {
  const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (b: Buffer) => log.push(...b.toString('utf8').split('\n').filter(Boolean));
  p.stdout!.on('data', keep);
  p.stderr!.on('data', keep);
  return p;
}

/** The management API's root certificate (pebble makes a new root at every start). */
async function pebbleRoot(mgmtPort: number, tlsCa: Buffer): Promise<string> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port: mgmtPort, path: '/roots/0', ca: tlsCa, servername: 'localhost' }, (res) => {
      let d = '';
      res.on('data', (c) => (d += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(d) : reject(new Error(`pebble /roots/0: ${res.statusCode}`))));
    })
      .on('error', reject)
      .end();
  });
}

async function waitPort(port: number, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

test('ACME: a VM with a domain gets its certificate from pebble on 127.0.0.1 and serves it', () =>
  withTimeout(1_200_000, async (cleanup) => {
    const work = await mkdtemp(join(tmpdir(), 'bulwark-acme-'));
    cleanup(() => rm(work, { recursive: true, force: true }));
    const log: string[] = [];

    // pebble's own HTTPS certificate: valid for the address the VM reaches it at, and for 127.0.0.1.
    const pki = join(work, 'pebble-tls');
    await run('mkdir', ['-p', pki]);
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=pebble test CA', '-keyout', join(pki, 'ca.key'), '-out', join(pki, 'ca.pem'), '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
    await run('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=pebble', '-keyout', join(pki, 'key.pem'), '-out', join(pki, 'req.csr')]);
    await writeFile(join(pki, 'ext.cnf'), `subjectAltName=IP:${GUEST_IP},IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n`);
    await run('openssl', ['x509', '-req', '-in', join(pki, 'req.csr'), '-CA', join(pki, 'ca.pem'), '-CAkey', join(pki, 'ca.key'), '-CAcreateserial', '-days', '2', '-extfile', join(pki, 'ext.cnf'), '-out', join(pki, 'cert.pem')]);
    const pebbleTlsCa = await readFile(join(pki, 'ca.pem'));

    const ports = { ssh: await freeLocalPort(), http: await freeLocalPort(), https: await freeLocalPort() };
    const [acmePort, mgmtPort, dnsPort, chalMgmt] = [await freeLocalPort(), await freeLocalPort(), await freeLocalPort(), await freeLocalPort()];
    const config = join(work, 'pebble.json');
    await writeFile(config, JSON.stringify({ pebble: { listenAddress: `127.0.0.1:${acmePort}`, managementListenAddress: `127.0.0.1:${mgmtPort}`, certificate: join(pki, 'cert.pem'), privateKey: join(pki, 'key.pem'), httpPort: ports.http, tlsPort: ports.https, ocspResponderURL: '', externalAccountBindingRequired: false } }));
    const dns = start('pebble-challtestsrv', ['-defaultIPv4', '127.0.0.1', '-defaultIPv6', '', '-dns01', `127.0.0.1:${dnsPort}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${chalMgmt}`], {}, log);
    cleanup(() => dns.kill());
    // No random sleeps or nonce rejections: the test measures Bulwark, not pebble's chaos settings.
    const pebble = start('pebble', ['-config', config, '-dnsserver', `127.0.0.1:${dnsPort}`], { PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' }, log);
    cleanup(() => pebble.kill());
    await waitPort(acmePort, 30_000);

    // The site: the Express example under a domain, ACME against pebble.
    const site = join(work, 'site');
    await cp(example('express-hello'), join(site, 'express-hello'), { recursive: true, filter: (p) => !p.includes('/.bulwark') && !p.includes('node_modules') && !p.endsWith('/data') });
    await writeFile(join(site, 'bulwark.hcl'), `app "notes" {\n  path    = "express-hello"\n  domains = ["${DOMAIN}"]\n}\n`);
    const b = await bulwark(['build', site, '--target', 'qemu', '--json', '--acme-directory', `https://${GUEST_IP}:14000/dir`, '--acme-ca-root', join(pki, 'ca.pem'), '--acme-email', 'ops@bulwark.test'], { timeoutMs: 1_200_000 });
    assert.is(b.code, 0, b.stderr.slice(-2000));
    const disk = (JSON.parse(b.stdout) as { artifacts: Artifact[] }).artifacts.find((a) => a.kind === 'qcow2')!;
    assert.ok(disk, 'a qcow2 artifact');
    assert.is(disk.caCert, undefined, 'no internal CA for a site with domains');

    const dataDisk = join(work, 'data.raw');
    await run('truncate', ['-s', '256M', dataDisk]);
    const baseDir = JSON.parse(await readFile(join(dirname(disk.path!), 'manifest.json'), 'utf8')).baseKey as string;
    const kernel = (await readdir(baseDir)).find((f) => f.startsWith('vmlinuz-'));
    const accel = await probeAccelerator({ kernel: kernel ? join(baseDir, kernel) : undefined });
    const vm = await bootSystemDisk({ disk: disk.path!, dataDisk, accel, serialLog: join(work, 'serial.log'), ports, guestForwards: [{ guestIp: GUEST_IP, guestPort: 14000, hostPort: acmePort }] });
    cleanup(() => vm.vm.kill());
    const root = await pebbleRoot(mgmtPort, pebbleTlsCa);
    try {
      await waitHttps(ports.https, '/healthz', root, vm.vm, 480_000, DOMAIN);
    } catch (e) {
      throw new Error(`${(e as Error).message}\npebble log:\n${log.slice(-25).join('\n')}`);
    }
    console.log(`  (ACME: certificate from pebble served ${((Date.now() - vm.startedAt) / 1000).toFixed(1)} s after boot)`);
    assert.ok(log.some((l) => /Issued certificate serial/i.test(l) || /finalize/i.test(l)), `pebble issued a certificate:\n${log.slice(-20).join('\n')}`);
    const r = await httpsCall(ports.https, '/', root, { servername: DOMAIN });
    assert.is(r.status, 200);
    assert.is(r.headers['strict-transport-security'], 'max-age=63072000; includeSubDomains');
    await vm.vm.stop({ timeoutMs: 120_000 });
  }),
);

test.run();
