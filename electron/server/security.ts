/**
 * The page's rules, the same in Electron and in a browser: scripts and styles only from the app itself, no
 * inline script, no remote anything. Svelte's styles are extracted to files at build time, chart.js draws on
 * canvases, and style changes made through the CSSOM are not inline styles, so 'self' is enough.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  // 'self' covers the same-origin WebSocket of serve mode.
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  // The first URL carries the token: never send it on as a Referer.
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

/** HTTP status for an error code (the body always carries the code and the message). */
export function statusFor(code: string): number {
  switch (code) {
    case 'BAD_INPUT':
      return 400;
    case 'FORBIDDEN':
      return 403;
    case 'NOT_FOUND':
    case 'UNKNOWN_METHOD':
      return 404;
    case 'NO_LIBRARY':
    case 'LIBRARY_TOO_NEW':
    case 'CONFLICT':
    case 'CANCELLED':
      return 409;
    default:
      return 500;
  }
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];
const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

/**
 * The Host values a request may carry: the loopback names with the served port, plus the address serve was
 * told to bind when it is a specific one (`--host 192.168.1.5`). A page on another name that resolves here
 * (DNS rebinding) is refused before the token is even looked at.
 */
export function allowedHosts(port: number, boundHost: string): Set<string> {
  const names = new Set(LOOPBACK_NAMES);
  const bound = boundHost.includes(':') && !boundHost.startsWith('[') ? `[${boundHost}]` : boundHost;
  if (!WILDCARDS.has(bound)) names.add(bound.toLowerCase());
  return new Set([...names].map((n) => `${n}:${port}`));
}

export function hostAllowed(host: string | undefined, allowed: ReadonlySet<string>): boolean {
  return host !== undefined && allowed.has(host.toLowerCase());
}

/** A request with no Origin (a script, a same-origin GET) passes; one from a page must be from this server. */
export function originAllowed(origin: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (origin === undefined) return true;
  const m = /^http:\/\/([^/]+)$/i.exec(origin);
  return m !== null && m[1] !== undefined && allowed.has(m[1].toLowerCase());
}
