// The metadata key fetcher (src/render/metadata-keys.ts) run with bash against a local HTTP
// server on 127.0.0.1 that answers like each cloud's metadata service (paths and headers of
// DigitalOcean, GCP and AWS IMDSv2), and against no service at all.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderMetadataKeysScript, renderMetadataKeysUnit } from '../../src/render/metadata-keys.js';

const KEY1 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBulwarkTestKeyOneBulwarkTestKeyOne0001 ops@example';
const KEY2 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBulwarkTestKeyTwoBulwarkTestKeyTwo0002';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function withServer<T>(handler: Handler, fn: (addr: string) => Promise<T>): Promise<T> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    return await fn(`127.0.0.1:${(server.address() as { port: number }).port}`);
  } finally {
    server.close();
  }
}

function runScript(addr: string, keysFile: string): Promise<{ code: number; out: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-mdk-'));
  const script = join(dir, 'metadata-keys');
  writeFileSync(script, renderMetadataKeysScript());
  return new Promise((resolve) => {
    const p = spawn('bash', [script], { env: { ...process.env, BULWARK_METADATA_ADDR: addr, BULWARK_METADATA_KEYS_FILE: keysFile } });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('close', (code) => {
      rmSync(dir, { recursive: true, force: true });
      resolve({ code: code ?? -1, out });
    });
  });
}

const keysPath = () => join(mkdtempSync(join(tmpdir(), 'bulwark-mdk-home-')), '.ssh', 'authorized_keys');

test('DigitalOcean: /metadata/v1/public-keys, invalid lines dropped, 0600 in a 0700 folder', () =>
  withServer(
    (req, res) => {
      if (req.url === '/metadata/v1/public-keys') res.end(`${KEY1}\nnot a key\n${KEY2}\n`);
      else res.writeHead(404).end();
    },
    async (addr) => {
      const file = keysPath();
      const r = await runScript(addr, file);
      assert.is(r.code, 0, r.out);
      assert.match(r.out, /2 key\(s\) from DigitalOcean/);
      assert.is(readFileSync(file, 'utf8'), `${KEY1}\n${KEY2}\n`);
      assert.is(statSync(file).mode & 0o777, 0o600);
      assert.is(statSync(join(file, '..')).mode & 0o777, 0o700);
      // Again: nothing added twice.
      const again = await runScript(addr, file);
      assert.match(again.out, /0 key\(s\)/);
      assert.is(readFileSync(file, 'utf8'), `${KEY1}\n${KEY2}\n`);
    },
  ));

test('GCP: needs Metadata-Flavor: Google, "user:key" lines', () =>
  withServer(
    (req, res) => {
      if (req.url === '/computeMetadata/v1/instance/attributes/ssh-keys' && req.headers['metadata-flavor'] === 'Google') res.end(`alice:${KEY1}\nbob:${KEY2}`);
      else res.writeHead(404).end();
    },
    async (addr) => {
      const file = keysPath();
      const r = await runScript(addr, file);
      assert.match(r.out, /2 key\(s\) from GCP/, r.out);
      assert.is(readFileSync(file, 'utf8'), `${KEY1}\n${KEY2}\n`);
    },
  ));

test('AWS: IMDSv2 token by PUT, then the key with the token', () =>
  withServer(
    (req, res) => {
      if (req.method === 'PUT' && req.url === '/latest/api/token' && req.headers['x-aws-ec2-metadata-token-ttl-seconds']) res.end('tok-123');
      else if (req.url === '/latest/meta-data/public-keys/0/openssh-key' && req.headers['x-aws-ec2-metadata-token'] === 'tok-123') res.end(`${KEY1}\n`);
      else res.writeHead(req.url?.startsWith('/latest/') ? 401 : 404).end();
    },
    async (addr) => {
      const file = keysPath();
      const r = await runScript(addr, file);
      assert.match(r.out, /1 key\(s\) from AWS/, r.out);
      assert.is(readFileSync(file, 'utf8'), `${KEY1}\n`);
    },
  ));

test('no metadata service: exit 0, no file written', async () => {
  // A port nothing listens on: connection refused at once.
  const file = keysPath();
  const r = await withServer((_q, res) => res.end(), async (addr) => addr).then((addr) => runScript(addr, file));
  assert.is(r.code, 0, r.out);
  assert.match(r.out, /no instance metadata service answered/);
  assert.throws(() => statSync(file));
});

test('unit: after the network, skipped under plain QEMU, on nothing\'s boot path', () => {
  const u = renderMetadataKeysUnit();
  assert.match(u, /After=network-online\.target/);
  assert.match(u, /ConditionVirtualization=!qemu/);
  assert.not.match(u, /Before=/);
});

test.run();
