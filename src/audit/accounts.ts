// /etc/passwd, /etc/group and /etc/shadow as data, for A5 (empty passwords, duplicate ids).

export interface PasswdEntry {
  name: string;
  password: string; // "x" when the hash lives in /etc/shadow
  uid: number;
  gid: number;
  shell: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
}

const rows = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'));

export const parsePasswd = (text: string): PasswdEntry[] =>
  rows(text).map((f) => ({ name: f[0] ?? '', password: f[1] ?? '', uid: Number(f[2]), gid: Number(f[3]), shell: f[6] ?? '' }));

export const parseGroup = (text: string): GroupEntry[] => rows(text).map((f) => ({ name: f[0] ?? '', gid: Number(f[2]) }));

/** name → password field of /etc/shadow. */
export const parseShadow = (text: string): Map<string, string> => new Map(rows(text).map((f) => [f[0] ?? '', f[1] ?? '']));

/** Accounts whose shell refuses logins cannot use an empty password (an empty shell means /bin/sh). */
export const canLogin = (shell: string) => !/(^|\/)(nologin|false)$/.test(shell);

/** Values that occur more than once, each with the names that share it: "uid 0: root, toor". */
export function duplicates<T extends { name: string }>(items: T[], key: (t: T) => number, what: string): string[] {
  const byKey = new Map<number, string[]>();
  for (const i of items) byKey.set(key(i), [...(byKey.get(key(i)) ?? []), i.name]);
  return [...byKey].filter(([, names]) => names.length > 1).map(([k, names]) => `${what} ${k}: ${names.join(', ')}`);
}
