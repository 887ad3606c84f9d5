// What the host layer of a VM image is configured from, and the well-known places on it
// (DESIGN "Well-known places"). Plain data: render/ turns a HostSpec into files, the system disk
// build (system-disk.ts) and the audit (B, C, D) read the same constants.

export interface HostApp {
  /** The app's name: names its unit (<name>.service), user, /opt/<name> and /var/lib/<name>. */
  name: string;
  /** Its fixed uid = gid (appUid(name)). */
  uid: number;
  /** Port the app listens on, on 127.0.0.1 only; Caddy proxies to it. */
  port: number;
  runtime: 'node' | 'python';
  /** express, django, flask, static, node, python … (per-framework header defaults). */
  framework: string;
  /** Public names. Empty: the app is served as `localhost` with the internal CA (one such app at most). */
  domains: string[];
  /** Secret environment variables generated at first boot (SESSION_SECRET, SECRET_KEY …). */
  secrets: string[];
  healthPath: string;
}

export type TlsSpec =
  /**
   * No domain: Caddy issues certificates from an intermediate CA that Bulwark made at build time.
   * The intermediate is name-constrained to localhost names and loopback addresses; the root's
   * key never leaves the build machine, and the root certificate is exported next to the disk.
   */
  | { mode: 'internal' }
  /** ACME (Let's Encrypt by default). `caRootPem`: trust this CA for the directory's HTTPS (a test server's). */
  | { mode: 'acme'; directory: string; email?: string; caRootPem?: string };

export interface HostSpec {
  hostname: string;
  apps: HostApp[];
  tls: TlsSpec;
}

export const LETS_ENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';

/** Mount point of the data disk (label DATA_LABEL); /var/lib/<app> are bind mounts from it. */
export const DATA_MOUNT = '/var/lib/bulwark';
export const DATA_LABEL = 'bulwark-data';
/** Each app's state on the data disk, bind-mounted at /var/lib/<app>. */
export const dataAppDir = (app: string) => `${DATA_MOUNT}/apps/${app}`;
/** Generated secrets, root-only (0700 dir, 0600 files): <app>.env, read by systemd as the app's environment. */
export const SECRETS_DIR = `${DATA_MOUNT}/secrets`;
/** This machine's SSH host keys (sshd's HostKey points here). */
export const SSH_HOST_KEY_DIR = `${DATA_MOUNT}/ssh`;
/** Caddy's storage: ACME account, certificates, OCSP staples. Owned by the caddy user. */
export const CADDY_STORAGE = `${DATA_MOUNT}/caddy`;
/** The internal CA's files in the image: root.crt, intermediate.crt, intermediate.key (root:caddy 0640). */
export const INTERNAL_CA_DIR = '/etc/bulwark/tls';
/** Per-app facts the first-boot service reads (NAME, UID, SECRETS): one shell-sourceable file per app. */
export const HOST_APPS_DIR = '/etc/bulwark/apps';
/** Image identity (Bulwark version, lock hash, layer digests). */
export const RELEASE_FILE = '/etc/bulwark/release';
/** Port the app proxies are reached on inside the VM. */
export const HTTPS_PORT = 443;
export const HTTP_PORT = 80;
export const SSH_PORT = 22;

/** A file of the system tree: path without the leading slash. */
export interface TreeFile {
  path: string;
  content: string;
  mode: number;
}
