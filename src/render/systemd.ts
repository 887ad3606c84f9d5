// The app's systemd unit on VMs (SECURITY-CHECKS D1–D10): a fixed non-root user, no
// capabilities, a read-only system with /var/lib/<app> as the only writable place, a syscall
// allow-list, and network limited to localhost (the TLS proxy on the same machine reaches it).
import type { AppPlan, Plan } from '../plan/types.js';
import { appPaths } from '../names.js';

/** Where the app's generated secrets live on the data disk: root-only, read by systemd as root. */
export const appSecretsFile = (name: string) => `/var/lib/bulwark/secrets/${name}.env`;

/** Debian paths of the commands a detected start command may name. */
const debianBinaries: Record<string, string> = {
  gunicorn: '/usr/bin/gunicorn', // trixie's gunicorn package ships /usr/bin/gunicorn (bookworm adds a gunicorn3 link)
  gunicorn3: '/usr/bin/gunicorn',
  node: '/usr/bin/node',
  nodejs: '/usr/bin/node',
  python: '/usr/bin/python3',
  python3: '/usr/bin/python3',
  uvicorn: '/usr/bin/uvicorn',
};

/**
 * ExecStart= needs an absolute binary: a bare command is the Debian package's (/usr/bin/…),
 * a relative path is inside the app's code folder.
 */
export function absoluteCommand(cmd: string, appName: string): string {
  if (cmd.startsWith('/')) return cmd;
  if (cmd.includes('/')) return `${appPaths(appName).code}/${cmd.replace(/^\.\//, '')}`;
  return debianBinaries[cmd] ?? `/usr/bin/${cmd}`;
}

/**
 * One word of a unit setting: `%` specifiers escaped, quoted when it holds spaces, quotes or
 * backslashes. ExecStart= also expands `$VAR`, so there `$` is doubled (`execDollar`).
 */
export function systemdWord(s: string, execDollar = false): string {
  let escaped = s.replace(/%/g, '%%');
  if (execDollar) escaped = escaped.replace(/\$/g, '$$$$');
  if (escaped !== '' && !/[\s"'\\;]/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t')}"`;
}

/** The start command for the unit: absolute binary; gunicorn bound to loopback (the proxy is local). */
export function unitExecStart(app: AppPlan): string[] {
  const [cmd, ...args] = app.spec.start.value.argv;
  if (!cmd) throw new Error(`${app.spec.name}: empty start command`);
  const bin = absoluteCommand(cmd, app.spec.name);
  const out = args.slice();
  if (app.spec.start.value.portVia === 'gunicorn-bind') {
    for (let i = 0; i < out.length; i++) {
      const a = out[i]!;
      if ((a === '--bind' || a === '-b') && out[i + 1]) out[i + 1] = out[i + 1]!.replace(/^(0\.0\.0\.0|\[::\]|::):/, '127.0.0.1:');
      else if (a.startsWith('--bind=')) out[i] = a.replace(/^--bind=(0\.0\.0\.0|\[::\]|::):/, '--bind=127.0.0.1:');
    }
  }
  return [bin, ...out];
}

/**
 * SECURITY-CHECKS D4 and D5, the same for every Bulwark unit (the apps' and the proxy's): a
 * read-only system, no home, private /tmp and mounts, no devices, kernel and clock out of reach.
 */
export const FILESYSTEM_AND_KERNEL_SANDBOX: readonly string[] = [
    '# Filesystem (D4).',
    'ProtectSystem=strict',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    'PrivateMounts=yes',
    '',
    '# Kernel and devices (D5).',
    'PrivateDevices=yes',
    'DevicePolicy=closed',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
];

/** Where the VM keeps an app's Bulwark files (launcher, app.json, Django settings): one folder per app. */
export const vmBulwarkDir = (name: string) => `/opt/bulwark/${name}`;

/**
 * The unit starts the app through the same launcher as the container (launch.mjs / launch.py:
 * writable paths on the state disk, Django migrations, then the app), from the app's own
 * folder under /opt/bulwark, so both images run the app the same way.
 */
export function unitLauncher(app: AppPlan): string[] {
  const dir = vmBulwarkDir(app.spec.name);
  return app.spec.runtime.value === 'python' ? ['/usr/bin/python3', `${dir}/launch.py`] : ['/usr/bin/node', `${dir}/launch.mjs`];
}

/** Environment of the unit: runtime defaults, then the plan's (no secrets), then PORT. Sorted. */
export function unitEnvironment(app: AppPlan): Array<[string, string]> {
  const runtime = app.spec.runtime.value;
  const defaults: Record<string, string> =
    runtime === 'node'
      ? { NODE_ENV: 'production' }
      : runtime === 'python'
        ? { PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' } // /opt is read-only; logs reach the journal at once
        : {};
  const vm: Record<string, string> = { BULWARK_APP_CONFIG: `${vmBulwarkDir(app.spec.name)}/app.json`, BULWARK_BIND_HOST: '127.0.0.1' };
  if (runtime === 'python') vm.PYTHONPATH = `${vmBulwarkDir(app.spec.name)}:${appPaths(app.spec.name).code}`;
  const env: Record<string, string> = { ...defaults, ...app.env, ...vm, PORT: String(app.spec.port.value) };
  return Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export function renderAppUnit(plan: Plan, app: AppPlan): string {
  const name = app.spec.name;
  const paths = appPaths(name);
  const isNode = app.spec.runtime.value === 'node';
  const hasSecrets = app.spec.secrets.length > 0;
  const secrets = appSecretsFile(name);
  const env = unitEnvironment(app);

  const lines: string[] = [
    `# ${paths.unit}: generated by Bulwark v${plan.bulwarkVersion} for the app "${name}".`,
    `# Hardened per SECURITY-CHECKS D1-D10; check with: systemd-analyze security ${paths.unit}`,
    `# Code in ${paths.code} (root-owned, read-only); the app writes only ${paths.state}.`,
    '',
    '[Unit]',
    `Description=${name} (web app, Bulwark)`,
    // The state and the secrets live on the data disk, which bulwark-data.service mounts
    // (and formats, on first boot) and fills with this app's generated secrets.
    'After=network.target bulwark-data.service',
    'Requires=bulwark-data.service',
    `RequiresMountsFor=${paths.state} /var/lib/bulwark`,
    'StartLimitIntervalSec=300',
    'StartLimitBurst=5',
    '',
    '[Service]',
    'Type=simple',
    `# The launcher prepares the state folder, then starts the app (as: ${unitExecStart(app).join(' ')}).`,
    `ExecStart=${unitLauncher(app).map((w) => systemdWord(w, true)).join(' ')}`,
    `WorkingDirectory=${paths.code}`,
    'Restart=on-failure',
    'RestartSec=2s',
    '',
    '# Identity (D2): a fixed uid/gid (not DynamicUser), so the state keeps its owner across images.',
    `# ${name} is uid/gid ${app.uid}, created by provision/${name}/10-app-user.sh.`,
    `User=${name}`,
    `Group=${name}`,
    '',
    '# Environment: no secrets here. Secrets are generated at first boot into a root-only file',
    '# on the data disk, which systemd reads as root before dropping privileges.',
    ...env.map(([k, v]) => `Environment=${systemdWord(`${k}=${v}`)}`),
    hasSecrets
      ? `EnvironmentFile=${secrets}`
      : `# The app declares no secrets, so the file is optional ("-").\nEnvironmentFile=-${secrets}`,
    '',
    '# State (D4): the only writable place, created by systemd with this mode.',
    `StateDirectory=${name}`,
    'StateDirectoryMode=0700',
    'UMask=0077',
    '',
    '# Logs go to the journal.',
    'StandardOutput=journal',
    'StandardError=journal',
    `SyslogIdentifier=${name}`,
    '',
    '# Privileges (D3).',
    'NoNewPrivileges=yes',
    'CapabilityBoundingSet=',
    'AmbientCapabilities=',
    '',
    ...FILESYSTEM_AND_KERNEL_SANDBOX,
    '',
    '# Namespaces and sockets (D6).',
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX',
    'RestrictNamespaces=yes',
    'RestrictRealtime=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    '',
    '# System calls (D7).',
    'SystemCallArchitectures=native',
    'SystemCallFilter=@system-service',
    'SystemCallFilter=~@privileged',
    ...(isNode
      ? ['# ~@resources is not denied: Node.js calls setrlimit at start.']
      : ['SystemCallFilter=~@resources']),
    'SystemCallErrorNumber=EPERM',
    '',
    '# /proc and IPC (D8).',
    'ProtectProc=invisible',
    ...(isNode ? ['# With ProcSubset=pid, os.cpus() is empty (no /proc/stat): size worker pools with os.availableParallelism().'] : []),
    'ProcSubset=pid',
    'RemoveIPC=yes',
    'PrivateUsers=yes',
    '',
    '# Network (D9): localhost only, both ways; the TLS proxy on this machine is the way in.',
    'IPAddressDeny=any',
    'IPAddressAllow=localhost',
    '',
    '# W^X (D10).',
    ...(isNode
      ? [
          '# MemoryDenyWriteExecute= stays off: Node.js (V8) JIT-compiles into memory that is',
          '# writable and then executable, and aborts at start when the kernel refuses it.',
        ]
      : ['MemoryDenyWriteExecute=yes']),
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ];
  return lines.join('\n');
}
