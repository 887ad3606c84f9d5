import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { staticKey } from '../../src/build/app-build.js';
import { sampleAppPlan } from './fixtures-plan.js';
import { example } from '../helpers.js';

test("Django's collected static files are reused after a view edit, redone after a CSS or settings edit", async () => {
  const dir = join(await mkdtemp(join(tmpdir(), 'bw-static-')), 'django-hello');
  try {
    await cp(example('django-hello'), dir, { recursive: true, filter: (p) => !p.includes('/.bulwark') });
    const app = sampleAppPlan({ name: 'django-hello', dir, writable: [], django: { settingsModule: 'mysite.settings', wsgiModule: 'mysite.wsgi', settingsFile: 'mysite/settings.py' } });
    const key = () => staticKey(app, 'pkgs', 1);
    const k0 = key();
    await writeFile(join(dir, 'notes/views.py'), (await readFile(join(dir, 'notes/views.py'), 'utf8')) + '\n# a view edit\n');
    assert.is(key(), k0, 'a view edit keeps the key');
    await writeFile(join(dir, 'notes/static/notes/style.css'), 'h1 { color: red; }\n');
    const k1 = key();
    assert.is.not(k1, k0, 'a CSS edit changes it');
    await writeFile(join(dir, 'mysite/settings.py'), (await readFile(join(dir, 'mysite/settings.py'), 'utf8')) + '\nSTATIC_URL = "assets/"\n');
    assert.is.not(key(), k1, 'a settings edit changes it');
    assert.is.not(staticKey(app, 'other-pkgs', 1), key(), 'a Django bump changes it');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
