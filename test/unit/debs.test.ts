import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { fetchDeb } from '../../src/build/debs.js';
import type { DebPackage } from '../../src/lock/archive.js';

const body = Buffer.from('not really a deb');
const sha = createHash('sha256').update(body).digest('hex');
const pkg = (over: Partial<DebPackage>): DebPackage => ({
  name: 'libzstd1', version: '1.5.7+dfsg-1', arch: 'amd64', source: 'libzstd', sourceVersion: '1.5.7+dfsg-1', filename: 'pool/main/l/libzstd1.deb',
  sha256: sha, size: body.length, depends: '', provides: '', suite: 'trixie', baseUrl: '', ...over,
});

test('the .deb store: verified by sha256, kept, and a pin gone from the mirror says what to do', async () => {
  const cache = await mkdtemp(join(tmpdir(), 'bw-debs-'));
  process.env.BULWARK_CACHE = cache;
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    if (req.url === '/pool/main/l/libzstd1.deb') res.end(body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    const path = await fetchDeb(pkg({ baseUrl }));
    assert.is(path, join(cache, 'debs', `${sha}.deb`));
    await fetchDeb(pkg({ baseUrl }));
    assert.is(hits, 1, 'the second fetch is served by the store');
    await fetchDeb(pkg({ baseUrl, sha256: 'f'.repeat(64) })).then(
      () => assert.unreachable('a wrong sha256 is refused'),
      (e) => assert.match(e.message, /does not match the sha256/),
    );
    await fetchDeb(pkg({ baseUrl, filename: 'pool/gone.deb', sha256: 'e'.repeat(64) })).then(
      () => assert.unreachable(),
      (e) => {
        assert.is(e.exitCode, 3);
        assert.match(e.message, /pinned in bulwark\.lock but is neither in the \.deb store .* nor on .* \(HTTP 404\): run `bulwark lock --update`.*snapshot/);
      },
    );
  } finally {
    server.close();
    delete process.env.BULWARK_CACHE;
    await rm(cache, { recursive: true, force: true });
  }
});

test.run();
