// A small AppPlan for unit tests of the image and run-config stages.
import type { AppPlan } from '../../src/plan/types.js';
import type { AppSpec } from '../../src/types.js';
import { appUid } from '../../src/names.js';

const f = <T>(value: T) => ({ value, evidence: [{ file: 'package.json', line: 1 }] });

export function sampleSpec(over: Partial<AppSpec> = {}): AppSpec {
  return {
    name: 'express-hello',
    dir: '/srv/express-hello',
    framework: f('express' as const),
    runtime: f('node' as const),
    runtimeVersion: f('>=18'),
    packageManager: f('npm' as const),
    install: f([['npm', 'ci']]),
    build: f([] as string[][]),
    start: f({ argv: ['node', 'server.js'], portVia: 'env' as const }),
    port: f(3000),
    healthPath: f('/healthz'),
    staticDirs: f(['public']),
    writable: [{ path: 'data', kind: 'dir', reason: 'gitignored-dir', evidence: [{ file: '.gitignore', line: 2 }] }],
    secrets: [{ env: 'SESSION_SECRET', evidence: [{ file: 'server.js', line: 16 }] }],
    ...over,
  };
}

export function sampleAppPlan(over: Partial<AppSpec> = {}): AppPlan {
  const spec = sampleSpec(over);
  return {
    spec,
    uid: appUid(spec.name),
    image: `bulwark/${spec.name}`,
    stateVolume: `${spec.name}-state`,
    layers: [{ name: 'userland', packages: ['libc6'], hash: 'a'.repeat(64) }],
    appPackages: [],
    appHash: 'd'.repeat(64),
    contentHash: 'c'.repeat(64),
    env: { PORT: String(spec.port.value), NODE_ENV: 'production', BULWARK_APP: spec.name },
  };
}
