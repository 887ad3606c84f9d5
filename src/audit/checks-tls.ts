// SECURITY-CHECKS C1–C10: the TLS proxy and the HTTP headers of a running instance on this
// machine, probed with Node's own TLS (no openssl binary): protocols and TLS 1.2 ciphers by
// handshakes that offer one thing at a time, headers from a few real responses.
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { result } from './checks-image.js';
import { listSome, type CheckResult, type CheckStatus } from './types.js';

export interface TlsProbeOptions {
  host?: string;
  httpsPort: number;
  httpPort?: number;
  /** SNI and Host header (default localhost). */
  servername?: string;
  /** PEM of the CA to verify the chain against (the internal CA's root in tests). */
  ca?: Buffer | string;
  /** First path fetched (default /). */
  path?: string;
  /** The app's health path, fetched as well (default /healthz when it answers). */
  healthPath?: string;
  timeoutMs?: number;
}

interface Handshake {
  ok: boolean;
  protocol?: string | null;
  cipher?: string;
  error?: string;
  /** The error came from our side (the client refused to offer it): nothing was learned. */
  clientSide?: boolean;
  authorized?: boolean;
  authorizationError?: string;
  chain?: tls.DetailedPeerCertificate[];
}

// OpenSSL refuses to even offer TLS 1.0/1.1 and weak ciphers at its default security level: level
// 0 lets the probe ask for them, so a server that accepts them is caught.
const LOW = ':@SECLEVEL=0';
const CLIENT_SIDE = /no protocols available|no ciphers available|no cipher match|unsupported protocol|ERR_TLS_INVALID_PROTOCOL|wrong ssl version|NO_SUITABLE|ssl_choose_client_version/i;

function handshake(o: TlsProbeOptions, opts: tls.ConnectionOptions): Promise<Handshake> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (h: Handshake) => {
      if (done) return;
      done = true;
      resolve(h);
    };
    let sock: tls.TLSSocket;
    try {
      sock = tls.connect({ host: o.host ?? '127.0.0.1', port: o.httpsPort, servername: o.servername ?? 'localhost', rejectUnauthorized: false, ...opts });
    } catch (e) {
      return finish({ ok: false, error: (e as Error).message, clientSide: true });
    }
    sock.setTimeout(o.timeoutMs ?? 10_000, () => {
      finish({ ok: false, error: 'timeout' });
      sock.destroy();
    });
    sock.once('secureConnect', () => {
      const chain: tls.DetailedPeerCertificate[] = [];
      let c: tls.DetailedPeerCertificate | undefined = sock.getPeerCertificate(true);
      while (c && c.raw && !chain.some((x) => x.fingerprint256 === c!.fingerprint256)) {
        chain.push(c);
        c = c.issuerCertificate;
      }
      finish({ ok: true, protocol: sock.getProtocol(), cipher: sock.getCipher().standardName ?? sock.getCipher().name, authorized: sock.authorized, authorizationError: sock.authorizationError ? String(sock.authorizationError) : undefined, chain });
      sock.end();
    });
    sock.once('error', (e: NodeJS.ErrnoException) => {
      const msg = `${e.code ?? ''} ${e.message}`.trim();
      // "alert" errors are the server's answer; the others are our own library refusing.
      finish({ ok: false, error: msg, clientSide: !/alert|ECONNRESET|EPIPE|socket hang up/i.test(msg) && CLIENT_SIDE.test(msg) });
    });
  });
}

interface Fetched {
  path: string;
  status: number;
  headers: http.IncomingHttpHeaders;
  error?: string;
}

function fetchHttps(o: TlsProbeOptions, path: string): Promise<Fetched> {
  const name = o.servername ?? 'localhost';
  return new Promise((resolve) => {
    const req = https.request(
      {
        host: o.host ?? '127.0.0.1',
        port: o.httpsPort,
        path,
        method: 'GET',
        servername: name,
        headers: { Host: o.httpsPort === 443 ? name : `${name}:${o.httpsPort}`, 'User-Agent': 'bulwark-audit' },
        rejectUnauthorized: false,
        agent: false,
        timeout: o.timeoutMs ?? 10_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ path, status: res.statusCode ?? 0, headers: res.headers }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ path, status: 0, headers: {}, error: e.message }));
    req.end();
  });
}

function fetchHttp(o: TlsProbeOptions, path: string): Promise<Fetched> {
  const name = o.servername ?? 'localhost';
  return new Promise((resolve) => {
    const req = http.request({ host: o.host ?? '127.0.0.1', port: o.httpPort, path, method: 'GET', headers: { Host: o.httpPort === 80 ? name : `${name}:${o.httpPort}` }, agent: false, timeout: o.timeoutMs ?? 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ path, status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ path, status: 0, headers: {}, error: e.message }));
    req.end();
  });
}

const header = (f: Fetched, name: string): string | undefined => {
  const v = f.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v;
};

// ---------------------------------------------------------------------------------------------
// Header rules, pure (unit-tested on strings).

/** HSTS per Mozilla: max-age at least two years and includeSubDomains. */
export function hstsProblem(value: string | undefined): string | null {
  if (!value) return 'no Strict-Transport-Security';
  const maxAge = /(?:^|;)\s*max-age\s*=\s*"?(\d+)"?/i.exec(value);
  if (!maxAge) return `Strict-Transport-Security "${value}" has no max-age`;
  if (Number(maxAge[1]) < 63072000) return `max-age=${maxAge[1]} < 63072000`;
  if (!/(?:^|;)\s*includeSubDomains\s*(;|$)/i.test(value)) return 'no includeSubDomains';
  return null;
}

export type Csp = Map<string, string[]>;

/** A CSP header value → directive → sources (first occurrence of a directive wins, as browsers do). */
export function parseCsp(value: string): Csp {
  const out: Csp = new Map();
  for (const part of value.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/).filter(Boolean);
    if (!name) continue;
    const key = name.toLowerCase();
    if (!out.has(key)) out.set(key, sources);
  }
  return out;
}

const scriptSources = (csp: Csp) => csp.get('script-src') ?? csp.get('default-src');

/** SECURITY-CHECKS C6 (OWASP, Observatory): what is wrong with a CSP; [] when nothing. */
export function cspProblems(value: string | undefined): string[] {
  if (!value) return ['no Content-Security-Policy header'];
  const csp = parseCsp(value);
  const bad: string[] = [];
  const script = scriptSources(csp);
  if (!script) bad.push('neither script-src nor default-src');
  else {
    const lower = script.map((s) => s.toLowerCase());
    const nonceOrHash = lower.some((s) => /^'(nonce|sha(256|384|512))-/.test(s));
    if (lower.includes("'unsafe-inline'") && !nonceOrHash) bad.push("script-src allows 'unsafe-inline'");
    if (lower.includes("'unsafe-eval'")) bad.push("script-src allows 'unsafe-eval'");
    const loose = lower.filter((s) => s === '*' || s === 'http:' || s === 'https:' || s === 'data:' || /^http:\/\//.test(s));
    if (loose.length) bad.push(`script-src allows ${loose.join(' ')}`);
  }
  const obj = csp.get('object-src') ?? csp.get('default-src');
  if (!obj || obj.length !== 1 || obj[0]!.toLowerCase() !== "'none'") bad.push(`object-src is ${obj ? obj.join(' ') : 'unset'}, want 'none'`);
  for (const d of ['base-uri', 'form-action', 'frame-ancestors']) if (!csp.has(d)) bad.push(`${d} not set`);
  return bad;
}

const PRIVATE_REFERRER = new Set(['no-referrer', 'same-origin', 'strict-origin', 'strict-origin-when-cross-origin']);

/** The policy a browser applies: the last token it understands. */
export function referrerPolicy(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const known = new Set([...PRIVATE_REFERRER, 'no-referrer-when-downgrade', 'origin', 'origin-when-cross-origin', 'unsafe-url']);
  return value.split(',').map((s) => s.trim().toLowerCase()).filter((s) => known.has(s)).pop();
}

/** C7: the core headers of one response. */
export function coreHeaderProblems(h: (n: string) => string | undefined): string[] {
  const bad: string[] = [];
  if ((h('x-content-type-options') ?? '').trim().toLowerCase() !== 'nosniff') bad.push(`X-Content-Type-Options ${h('x-content-type-options') ?? 'missing'}`);
  const rp = referrerPolicy(h('referrer-policy'));
  if (!rp || !PRIVATE_REFERRER.has(rp)) bad.push(`Referrer-Policy ${h('referrer-policy') ?? 'missing'}`);
  const xfo = (h('x-frame-options') ?? '').trim().toUpperCase();
  const frameAncestors = parseCsp(h('content-security-policy') ?? '').has('frame-ancestors');
  if (xfo !== 'DENY' && !frameAncestors) bad.push(`X-Frame-Options ${xfo || 'missing'} and no CSP frame-ancestors`);
  if (h('x-powered-by') !== undefined) bad.push(`X-Powered-By: ${h('x-powered-by')}`);
  const server = h('server');
  if (server && /\d/.test(server)) bad.push(`Server "${server}" shows a version`);
  return bad;
}

/** Powerful features Permissions-Policy must deny (C8). */
export const DENIED_FEATURES = ['camera', 'microphone', 'geolocation'];

export function isolationHeaderProblems(h: (n: string) => string | undefined): string[] {
  const bad: string[] = [];
  const pp = h('permissions-policy');
  if (!pp) bad.push('no Permissions-Policy');
  else {
    const denied = new Set(pp.split(',').map((s) => s.trim()).filter((s) => /^[a-z-]+=\(\s*\)$/.test(s)).map((s) => s.split('=')[0]!));
    const open = DENIED_FEATURES.filter((f) => !denied.has(f));
    if (open.length) bad.push(`Permissions-Policy does not deny ${open.join(', ')}`);
  }
  if ((h('cross-origin-opener-policy') ?? '').trim() !== 'same-origin') bad.push(`Cross-Origin-Opener-Policy ${h('cross-origin-opener-policy') ?? 'missing'}`);
  if ((h('cross-origin-resource-policy') ?? '').trim() !== 'same-origin') bad.push(`Cross-Origin-Resource-Policy ${h('cross-origin-resource-policy') ?? 'missing'}`);
  return bad;
}

export interface Cookie {
  name: string;
  secure: boolean;
  httpOnly: boolean;
  sameSite?: string;
}

export function parseSetCookie(line: string): Cookie {
  const [pair = '', ...attrs] = line.split(';').map((s) => s.trim());
  const name = pair.split('=')[0]!.trim();
  const attr = (n: string) => attrs.find((a) => a.toLowerCase().split('=')[0]!.trim() === n);
  return { name, secure: !!attr('secure'), httpOnly: !!attr('httponly'), sameSite: attr('samesite')?.split('=')[1]?.trim() };
}

/** Names that look like a session (OBS treats these as session cookies); csrftoken is meant to be read by scripts. */
export const isSessionCookie = (name: string) => /sess|sid$|^sid|auth|token|login|remember/i.test(name) && !/csrf|xsrf/i.test(name);

export function cookieProblems(cookies: Cookie[]): string[] {
  const bad: string[] = [];
  for (const c of cookies) {
    if (!c.secure) bad.push(`${c.name} without Secure`);
    if (isSessionCookie(c.name) && !c.httpOnly) bad.push(`${c.name} (session) without HttpOnly`);
    if (!c.sameSite || !/^(lax|strict)$/i.test(c.sameSite)) bad.push(`${c.name} SameSite=${c.sameSite ?? 'unset'}`);
  }
  return bad;
}

/**
 * C10: an HTTP Observatory-style score. Start at 100, add each test's modifier; bonuses count only
 * when the score before them is at least 90 (as the Observatory does). Simplified table, after
 * MDN's HTTP Observatory scoring (tests it runs that a probe on 127.0.0.1 cannot: SRI, HSTS
 * preload, which are left at 0):
 *
 *   CSP              not implemented −25 · unsafe-inline (script) −20 · unsafe-eval −10 ·
 *                    insecure scheme/wildcard in script −20 · otherwise 0, and +10 when
 *                    default-src 'none' (bonus)
 *   Cookies          none 0 · session without Secure −40 · session without HttpOnly −30 ·
 *                    without Secure −20 · SameSite missing/invalid −20 ·
 *                    all Secure, HttpOnly sessions, SameSite +5 (bonus)
 *   CORS             Access-Control-Allow-Origin * with credentials −50 · otherwise 0
 *   Redirection      http → https on the same host 0 · not to https −20 · no redirect −20 ·
 *                    to another host −5
 *   Referrer-Policy  private (no-referrer, same-origin, strict-origin[-when-cross-origin]) +5
 *                    (bonus) · unset 0 · unsafe −5
 *   HSTS             ≥ 6 months 0 · < 6 months −10 · missing or invalid −20
 *   SRI              not applicable (no page parsing) 0
 *   X-Content-Type-Options  nosniff 0 · missing −5
 *   X-Frame-Options  via CSP frame-ancestors +5 (bonus) · DENY/SAMEORIGIN 0 · missing −20
 *   CORP             same-origin / same-site 0 · missing 0 (reported only)
 */
export function observatoryScore(input: { headers: (n: string) => string | undefined; cookies: Cookie[]; redirect: 'https-same-host' | 'https-other-host' | 'not-https' | 'none' | 'not-probed' }): { score: number; modifiers: Array<[string, number]> } {
  const h = input.headers;
  const mods: Array<[string, number, boolean]> = []; // name, points, is a bonus
  const cspValue = h('content-security-policy');
  if (!cspValue) mods.push(['csp-not-implemented', -25, false]);
  else {
    const csp = parseCsp(cspValue);
    const script = (scriptSources(csp) ?? []).map((s) => s.toLowerCase());
    const nonce = script.some((s) => /^'(nonce|sha(256|384|512))-/.test(s));
    if (script.includes("'unsafe-inline'") && !nonce) mods.push(['csp-implemented-with-unsafe-inline', -20, false]);
    else if (script.includes("'unsafe-eval'")) mods.push(['csp-implemented-with-unsafe-eval', -10, false]);
    else if (script.some((s) => s === '*' || s === 'http:' || s === 'https:' || s === 'data:' || s.startsWith('http://'))) mods.push(['csp-implemented-with-insecure-scheme', -20, false]);
    else if ((csp.get('default-src') ?? []).join(' ').toLowerCase() === "'none'") mods.push(['csp-implemented-with-no-unsafe-default-src-none', 10, true]);
    else mods.push(['csp-implemented-with-no-unsafe', 0, false]);
  }
  const c = input.cookies;
  if (c.length === 0) mods.push(['cookies-not-found', 0, false]);
  else if (c.some((x) => isSessionCookie(x.name) && !x.secure)) mods.push(['cookies-session-without-secure-flag', -40, false]);
  else if (c.some((x) => isSessionCookie(x.name) && !x.httpOnly)) mods.push(['cookies-session-without-httponly-flag', -30, false]);
  else if (c.some((x) => !x.secure)) mods.push(['cookies-without-secure-flag', -20, false]);
  else if (c.some((x) => !x.sameSite || !/^(lax|strict)$/i.test(x.sameSite))) mods.push(['cookies-samesite-flag-invalid', -20, false]);
  else mods.push(['cookies-secure-with-httponly-sessions-and-samesite', 5, true]);
  const acao = h('access-control-allow-origin');
  mods.push(acao === '*' && /true/i.test(h('access-control-allow-credentials') ?? '') ? ['cross-origin-resource-sharing-implemented-with-universal-access', -50, false] : ['cross-origin-resource-sharing-not-implemented-or-restricted', 0, false]);
  mods.push(
    input.redirect === 'not-probed' ? ['redirection-not-probed', 0, false] : input.redirect === 'https-same-host' ? ['redirection-to-https', 0, false] : input.redirect === 'https-other-host' ? ['redirection-off-host-from-http', -5, false] : input.redirect === 'not-https' ? ['redirection-not-to-https', -20, false] : ['redirection-missing', -20, false],
  );
  const rp = referrerPolicy(h('referrer-policy'));
  mods.push(!rp ? ['referrer-policy-not-implemented', 0, false] : PRIVATE_REFERRER.has(rp) ? ['referrer-policy-private', 5, true] : ['referrer-policy-unsafe', -5, false]);
  const hsts = h('strict-transport-security');
  const maxAge = hsts ? /max-age\s*=\s*"?(\d+)/i.exec(hsts)?.[1] : undefined;
  mods.push(!hsts || maxAge === undefined ? ['hsts-not-implemented', -20, false] : Number(maxAge) >= 15768000 ? ['hsts-implemented-max-age-at-least-six-months', 0, false] : ['hsts-implemented-max-age-less-than-six-months', -10, false]);
  mods.push(['sri-not-applicable', 0, false]);
  mods.push((h('x-content-type-options') ?? '').trim().toLowerCase() === 'nosniff' ? ['x-content-type-options-nosniff', 0, false] : ['x-content-type-options-not-implemented', -5, false]);
  const xfo = (h('x-frame-options') ?? '').trim().toUpperCase();
  const fa = cspValue ? parseCsp(cspValue).has('frame-ancestors') : false;
  mods.push(fa ? ['x-frame-options-implemented-via-csp', 5, true] : xfo === 'DENY' || xfo === 'SAMEORIGIN' ? ['x-frame-options-sameorigin-or-deny', 0, false] : ['x-frame-options-not-implemented', -20, false]);
  const corp = (h('cross-origin-resource-policy') ?? '').trim();
  mods.push([corp ? `corp-implemented-with-${corp}` : 'corp-not-implemented', 0, false]);
  const base = 100 + mods.filter((m) => !m[2]).reduce((s, m) => s + m[1], 0);
  const bonus = base >= 90 ? mods.filter((m) => m[2]).reduce((s, m) => s + m[1], 0) : 0;
  return { score: Math.max(0, base + bonus), modifiers: mods.filter((m) => m[1] !== 0 && (!m[2] || base >= 90)).map((m) => [m[0], m[1]]) };
}

// ---------------------------------------------------------------------------------------------

/** Weak TLS 1.2 suites a server must refuse (C2): CBC, RSA key exchange, DHE. */
export const WEAK_TLS12_CIPHERS = ['AES128-SHA', 'AES256-SHA256', 'AES128-GCM-SHA256', 'ECDHE-RSA-AES128-SHA', 'ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA384', 'DHE-RSA-AES128-GCM-SHA256', 'DHE-RSA-AES256-SHA'];
const STRONG_TLS12 = /^(TLS_ECDHE_(ECDSA|RSA)_WITH_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)|ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305))$/;

/** SECURITY-CHECKS C1–C10 against a proxy listening on this machine. */
export async function checkTls(o: TlsProbeOptions): Promise<CheckResult[]> {
  const host = o.host ?? '127.0.0.1';
  if (!['127.0.0.1', 'localhost', '::1'].includes(host)) throw new Error(`checkTls probes this machine only, not ${host}`);
  const name = o.servername ?? 'localhost';
  const out: CheckResult[] = [];

  // C1: protocols.
  const [v11, v12, v13] = await Promise.all([
    handshake(o, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: `DEFAULT${LOW}` }),
    handshake(o, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' }),
    handshake(o, { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' }),
  ]);
  {
    const bad: string[] = [];
    if (v11.ok) bad.push(`accepts ${v11.protocol}`);
    if (!v12.ok) bad.push(`TLS 1.2 refused (${v12.error})`);
    if (!v13.ok) bad.push(`TLS 1.3 refused (${v13.error})`);
    if (bad.length) out.push(result('C1', 'fail', bad.join('; ')));
    else if (v11.clientSide) out.push(result('C1', 'warn', `TLS 1.2 and 1.3 work; TLS ≤ 1.1 not tested: this Node's OpenSSL would not offer it (${v11.error})`));
    else out.push(result('C1', 'pass', `TLS 1.0/1.1 refused (${shortError(v11.error)}); TLS 1.2 and 1.3 accepted`));
  }

  // C2: TLS 1.2 ciphers.
  {
    const accepted: string[] = [];
    const untested: string[] = [];
    for (const c of WEAK_TLS12_CIPHERS) {
      const h = await handshake(o, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: `${c}${LOW}` });
      if (h.ok) accepted.push(c);
      else if (h.clientSide) untested.push(c);
    }
    const negotiated = v12.ok ? v12.cipher ?? '' : '';
    const bad: string[] = [];
    if (accepted.length) bad.push(`accepts ${accepted.join(', ')}`);
    if (v12.ok && !STRONG_TLS12.test(negotiated)) bad.push(`default offer negotiates ${negotiated}`);
    if (bad.length) out.push(result('C2', 'fail', bad.join('; ')));
    else if (!v12.ok) out.push(result('C2', 'fail', 'no TLS 1.2 handshake to check'));
    else out.push(result('C2', untested.length ? 'warn' : 'pass', `refuses ${WEAK_TLS12_CIPHERS.length - untested.length} CBC/RSA/DHE suites; negotiates ${negotiated}${untested.length ? `; not offered by this client: ${untested.join(', ')}` : ''}`));
  }

  // Responses: the first path, the health path, a path that does not exist.
  const paths = [...new Set([o.path ?? '/', o.healthPath ?? '/healthz', `/bulwark-audit-${Date.now().toString(36)}-missing`])];
  const responses = await Promise.all(paths.map((p) => fetchHttps(o, p)));
  const answered = responses.filter((r) => !r.error);
  const first = answered[0];
  const h = (n: string) => (first ? header(first, n) : undefined);

  // C3: HSTS on every HTTPS response.
  {
    if (!answered.length) out.push(result('C3', 'fail', `no HTTPS response: ${responses[0]?.error}`));
    else {
      const bad = answered.map((r) => [r, hstsProblem(header(r, 'strict-transport-security'))] as const).filter(([, p]) => p).map(([r, p]) => `${r.path} (${r.status}): ${p}`);
      out.push(bad.length ? result('C3', 'fail', listSome(bad, 3)) : result('C3', 'pass', `"${header(answered[0]!, 'strict-transport-security')}" on ${answered.map((r) => `${r.path.length > 20 ? '<404 probe>' : r.path} ${r.status}`).join(', ')}`));
    }
  }

  // C4: plain HTTP redirects to https on the same host.
  let redirect: 'https-same-host' | 'https-other-host' | 'not-https' | 'none' | 'not-probed' = 'none';
  if (o.httpPort === undefined) {
    redirect = 'not-probed';
    out.push(result('C4', 'skip', 'no HTTP port given'));
  } else {
    const r = await fetchHttp(o, '/bulwark-audit');
    const loc = header(r, 'location') ?? '';
    let url: URL | null = null;
    try {
      url = new URL(loc);
    } catch {
      url = null;
    }
    if (r.error) out.push(result('C4', 'fail', `http://${host}:${o.httpPort}: ${r.error}`));
    else if (![301, 308].includes(r.status)) {
      redirect = r.status >= 300 && r.status < 400 && url?.protocol === 'https:' ? 'https-same-host' : 'none';
      out.push(result('C4', 'fail', `HTTP answers ${r.status}${loc ? ` → ${loc}` : ''}, want 301/308 to https`));
    } else if (!url || url.protocol !== 'https:') {
      redirect = 'not-https';
      out.push(result('C4', 'fail', `${r.status} to ${loc || '(no Location)'}: not https`));
    } else if (url.hostname !== name) {
      redirect = 'https-other-host';
      out.push(result('C4', 'fail', `${r.status} to another host: ${loc}`));
    } else {
      redirect = 'https-same-host';
      out.push(result('C4', 'pass', `${r.status} → ${loc}`));
    }
  }

  // C5: certificate.
  {
    const bad: string[] = [];
    const notes: string[] = [];
    const leaf = v13.chain?.[0] ?? v12.chain?.[0];
    if (!leaf) bad.push('no certificate (no handshake)');
    else {
      const x = new X509Certificate(leaf.raw);
      const key = x.publicKey;
      const d = key.asymmetricKeyDetails ?? {};
      if (key.asymmetricKeyType === 'ec') {
        if (d.namedCurve !== 'prime256v1' && d.namedCurve !== 'P-256') bad.push(`ECDSA on ${d.namedCurve}, want P-256`);
        else notes.push('ECDSA P-256');
      } else if (key.asymmetricKeyType === 'rsa') {
        if ((d.modulusLength ?? 0) < 2048) bad.push(`RSA ${d.modulusLength} bits < 2048`);
        else notes.push(`RSA ${d.modulusLength}`);
      } else bad.push(`leaf key ${key.asymmetricKeyType}`);
      if (!x.checkHost(name)) bad.push(`certificate not valid for ${name}`);
      // Chain as sent: without our CA, nothing from a trust store completes it (for a local CA).
      const sent = v13.chain ?? v12.chain ?? [];
      const roots = o.ca ? pemCerts(o.ca) : [];
      const directlyByRoot = roots.some((r) => x.checkIssued(r) && x.verify(r.publicKey));
      const verified = await handshake(o, { rejectUnauthorized: true, ...(o.ca ? { ca: o.ca } : {}) });
      if (!verified.ok) bad.push(`chain does not verify against ${o.ca ? 'the given CA' : "the system's CAs"}: ${verified.error}${o.ca ? '' : ' (pass --ca for a local CA)'}`);
      else notes.push(`verifies against ${o.ca ? 'the given CA' : "the system's CAs"}`);
      if (sent.length < 2 && !directlyByRoot) bad.push('the server sends the leaf only: no intermediate');
      else notes.push(directlyByRoot ? 'leaf signed by the root' : `chain of ${sent.length}`);
    }
    out.push(bad.length ? result('C5', 'fail', bad.join('; ')) : result('C5', 'pass', notes.join('; ')));
  }

  // C6–C8: headers of every response; the first problem found per response is reported.
  const perResponse = (fn: (g: (n: string) => string | undefined) => string[]) => {
    const where = new Map<string, string[]>();
    for (const r of answered) for (const p of fn((n) => header(r, n))) where.set(p, [...(where.get(p) ?? []), r.path.length > 20 ? '404 probe' : r.path]);
    return [...where].map(([p, paths]) => (paths.length === answered.length ? p : `${p} (${paths.join(', ')})`));
  };
  if (!answered.length) for (const id of ['C6', 'C7', 'C8', 'C9', 'C10']) out.push(result(id, 'fail', 'no HTTPS response'));
  else {
    const csp = perResponse((g) => cspProblems(g('content-security-policy')));
    out.push(csp.length ? result('C6', 'fail', listSome(csp, 3)) : result('C6', 'pass', `"${truncate(h('content-security-policy') ?? '', 120)}"`));
    const core = perResponse(coreHeaderProblems);
    out.push(core.length ? result('C7', 'fail', listSome(core, 6)) : result('C7', 'pass', `nosniff, Referrer-Policy ${h('referrer-policy')}, ${h('x-frame-options') ? `X-Frame-Options ${h('x-frame-options')}` : 'frame-ancestors'}, no X-Powered-By, Server ${h('server') ?? '(none)'}`));
    const iso = perResponse(isolationHeaderProblems);
    out.push(iso.length ? result('C8', 'fail', listSome(iso, 3)) : result('C8', 'pass', `Permissions-Policy denies ${DENIED_FEATURES.join(', ')}; COOP and CORP same-origin`));
    const cookies = answered.flatMap((r) => (r.headers['set-cookie'] ?? []).map(parseSetCookie));
    const cp = cookieProblems(cookies);
    out.push(cp.length ? result('C9', 'fail', listSome(cp, 4)) : result('C9', 'pass', cookies.length ? `${cookies.length} cookie(s): ${listSome(cookies.map((c) => c.name), 4)} Secure, SameSite; sessions HttpOnly` : `no cookies set on ${answered.length} responses`));
    const score = observatoryScore({ headers: h, cookies, redirect });
    const mods = score.modifiers.map(([n, p]) => `${n} ${p > 0 ? '+' : ''}${p}`).join(', ');
    const status: CheckStatus = score.score >= 100 ? 'pass' : 'fail';
    out.push(result('C10', status, `score ${score.score} (want ≥ 100)${mods ? `: ${mods}` : ''}${o.httpPort === undefined ? '; redirection not probed' : ''}`));
  }
  return out;
}

/** "tlsv1 alert protocol version" out of OpenSSL's long error line. */
const shortError = (e = '') => /alert [a-z ]+|ECONNRESET|timeout/i.exec(e)?.[0] ?? e.split(':').pop()!.trim();

const truncate = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function pemCerts(pem: Buffer | string): X509Certificate[] {
  const text = pem.toString();
  return (text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []).map((c) => new X509Certificate(c));
}
