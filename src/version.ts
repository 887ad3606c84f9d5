import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** Repository root (works from src/ via tsx and from dist/src/ after tsc). */
export const repoRoot = (() => {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(d, 'package.json'), 'utf8'));
      if (pkg.name === 'bulwark') return d;
    } catch {
      /* keep walking up */
    }
    d = dirname(d);
  }
  throw new Error('bulwark: cannot find package.json above ' + fileURLToPath(import.meta.url));
})();

export const bulwarkVersion: string = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version;
