// The host layer's configuration files, gathered from their renderers: the generic ones go into
// the base disk (the same for every site), the site's proxy configuration into its system disk.
import { renderFirewallFiles } from '../render/firewall.js';
import { renderHardeningFiles, HOST_ENABLE_UNITS } from '../render/host-hardening.js';
import { renderProxyFiles } from '../render/proxy.js';
import { renderSysctlFiles } from '../render/sysctl.js';
import type { HostSpec, TreeFile } from './host-spec.js';

/** Firewall, sysctl and hardening files: the same on every Bulwark VM. */
export function hostFiles(): TreeFile[] {
  return [...renderFirewallFiles(), ...renderSysctlFiles(), ...renderHardeningFiles()];
}

/** Units the base disk enables (firewall, proxy, security upgrades, time, AppArmor). */
export const HOST_UNITS_TO_ENABLE: string[] = HOST_ENABLE_UNITS;

/** The site's own host files: the proxy's configuration and unit. */
export function siteFiles(host: HostSpec): TreeFile[] {
  return renderProxyFiles(host);
}
