// Unit tests for src/vm/ssh.ts against an in-process ssh2 server on 127.0.0.1 (this machine runs
// no sshd): exec with exit codes and stderr, readFile (binary-safe, null when missing), the host
// key fingerprint as ssh-keygen prints it, pinning, loopback-only, and waitForSsh2 retrying until
// a server appears.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { run } from '../../src/build/proc.js';
import { freeLocalPort } from '../../src/vm/qemu.js';
import { connectSsh, hostKeyFingerprint, isLoopback, waitForSsh2 } from '../../src/vm/ssh.js';
import { liveView, offlineView } from '../../src/audit/host-view.js';
import { spawn } from 'node:child_process';
import { mkdir, symlink, chmod } from 'node:fs/promises';

const { Server, utils } = ssh2;

let dir = '';
let hostKey: Buffer;
let clientKey: Buffer;
let hostFingerprint = '';

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bulwark-ssh-test-'));
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host')]);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client')]);
  hostKey = await readFile(join(dir, 'host'));
  clientKey = await readFile(join(dir, 'client'));
  // ssh-keygen -l prints "256 SHA256:… comment (ED25519)".
  hostFingerprint = (await run('ssh-keygen', ['-l', '-f', join(dir, 'host.pub')])).stdout.split(' ')[1]!;
  await writeFile(join(dir, 'binary'), Buffer.from([0, 1, 2, 255, 10, 13]));
});
test.after(() => rm(dir, { recursive: true, force: true }));

/** A server that lets clientKey in and runs a tiny command language. */
function startServer(port: number): Promise<InstanceType<typeof Server>> {
  const allowed = utils.parseKey(clientKey);
  if (allowed instanceof Error) throw allowed;
  const server = new Server({ hostKeys: [hostKey] }, (client) => {
    client.on('authentication', (ctx) => {
      if (ctx.method === 'publickey' && ctx.key.algo === allowed.type && ctx.key.data.equals(allowed.getPublicSSH())) return ctx.accept();
      ctx.reject(['publickey']);
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept();
        session.on('exec', async (acc, _rej, info) => {
          const ch = acc();
          const cat = /^cat -- (.+)$/.exec(info.command);
          if (cat) {
            const path = cat[1]!.replace(/^'|'$/g, '');
            try {
              ch.write(await readFile(path));
              ch.exit(0);
            } catch {
              ch.stderr.write(`cat: ${path}: No such file or directory\n`);
              ch.exit(1);
            }
          } else if (info.command === 'fail') {
            ch.stderr.write('it failed\n');
            ch.exit(3);
          } else {
            ch.write(`ran: ${info.command}\n`);
            ch.exit(0);
          }
          ch.end();
        });
      });
    });
    client.on('error', () => undefined);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

test('exec, readFile and the host key fingerprint', async () => {
  const port = await freeLocalPort();
  const server = await startServer(port);
  try {
    const s = await connectSsh({ port, privateKey: clientKey });
    assert.is(s.hostKeySha256, hostFingerprint, 'same fingerprint as ssh-keygen -l');
    assert.equal(await s.exec('echo hi'), { code: 0, stdout: 'ran: echo hi\n', stderr: '' });
    assert.equal(await s.exec('fail'), { code: 3, stdout: '', stderr: 'it failed\n' });
    assert.equal(await s.readFile(join(dir, 'binary')), Buffer.from([0, 1, 2, 255, 10, 13]));
    assert.is(await s.readFile(join(dir, 'missing file')), null);
    s.close();

    // Pinned: the right key connects, another is refused.
    const pinned = await connectSsh({ port, privateKey: clientKey, hostKeySha256: hostFingerprint });
    pinned.close();
    try {
      await connectSsh({ port, privateKey: clientKey, hostKeySha256: 'SHA256:AAAA' });
      assert.unreachable('a wrong pinned key must be refused');
    } catch (e) {
      assert.match((e as Error).message, /not the pinned/);
    }
    // A key the server does not know.
    try {
      await connectSsh({ port, privateKey: hostKey });
      assert.unreachable('an unknown client key must be refused');
    } catch (e) {
      assert.match((e as Error).message, /authentication/i);
    }
  } finally {
    server.close();
  }
});

test('loopback only without a pinned key', async () => {
  assert.ok(isLoopback('127.0.0.1') && isLoopback('localhost') && isLoopback('::1'));
  assert.not.ok(isLoopback('10.0.0.1'));
  try {
    await connectSsh({ host: '192.0.2.1', port: 22, privateKey: clientKey });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /only 127\.0\.0\.1/);
  }
  assert.match(hostKeyFingerprint(Buffer.from('x')), /^SHA256:[A-Za-z0-9+/]{43}$/);
});

test('waitForSsh2 retries until sshd answers', async () => {
  const port = await freeLocalPort();
  const t0 = Date.now();
  let server: InstanceType<typeof Server> | undefined;
  const later = new Promise<void>((r) => setTimeout(async () => ((server = await startServer(port)), r()), 1500));
  try {
    const s = await waitForSsh2({ port, privateKey: clientKey }, 20_000, 200);
    assert.ok(Date.now() - t0 >= 1400, 'connected only once the server was up');
    assert.is((await s.exec('true')).code, 0);
    s.close();
  } finally {
    await later;
    server?.close();
  }
  try {
    await waitForSsh2({ port: await freeLocalPort(), privateKey: clientKey }, 1500, 200);
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /did not let the key in within 2 s/);
  }
});

const cleanups: Array<() => void> = [];

/** A server that runs each command with sh on this machine (what sshd in a VM does). */
function startShellServer(port: number): Promise<InstanceType<typeof Server>> {
  const server = new Server({ hostKeys: [hostKey] }, (client) => {
    client.on('authentication', (ctx) => (ctx.method === 'publickey' ? ctx.accept() : ctx.reject(['publickey'])));
    client.on('ready', () =>
      client.on('session', (accept) =>
        accept().on('exec', (acc, _rej, info) => {
          const ch = acc();
          const p = spawn('sh', ['-c', info.command], { stdio: ['ignore', 'pipe', 'pipe'] });
          p.stdout.pipe(ch, { end: false });
          p.stderr.on('data', (b: Buffer) => ch.stderr.write(b));
          p.on('close', (code) => {
            ch.exit(code ?? 1);
            ch.end();
          });
        }),
      ),
    );
    client.on('error', () => undefined);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

test('liveView over SSH answers as offlineView does for the same tree', async () => {
  const tree = join(dir, 'tree');
  await mkdir(join(tree, 'etc/sub'), { recursive: true });
  await writeFile(join(tree, 'etc/a file'), 'x');
  await chmod(join(tree, 'etc/a file'), 0o4750);
  await symlink('a file', join(tree, 'etc/link'));
  const port = await freeLocalPort();
  const server = await startShellServer(port);
  try {
    const session = await connectSsh({ port, privateKey: clientKey });
    cleanups.push(() => session.close());
    const live = liveView(session);
    const off = offlineView('/');
    for (const v of [live, off]) {
      assert.equal(await v.list(join(tree, 'etc')), ['a file', 'link', 'sub'], v.kind);
      assert.is(await v.list(join(tree, 'nope')), null, v.kind);
      const st = (await v.stat(join(tree, 'etc/link')))!;
      assert.is(st.mode & 0o7777, 0o4750, `${v.kind}: stat follows the link`);
      assert.ok(st.isFile && !st.isSymlink);
      assert.ok((await v.stat(join(tree, 'etc/link'), { follow: false }))!.isSymlink, v.kind);
      assert.ok((await v.stat(join(tree, 'etc/sub')))!.isDir, v.kind);
      assert.is(await v.readlink(join(tree, 'etc/link')), 'a file', v.kind);
      assert.is(await v.readlink(join(tree, 'etc/a file')), null, v.kind);
      assert.is((await v.readFile(join(tree, 'etc/a file')))!.toString(), 'x', v.kind);
    }
    assert.is((await live.exec!('echo $((6*7))')).stdout, '42\n');
  } finally {
    for (const c of cleanups.splice(0)) c();
    server.close();
  }
});

test.run();
