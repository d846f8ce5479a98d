// Who may talk to local mode's loopback servers (the status page, the embedded store): not any web page the user has open.
import type { IncomingHttpHeaders } from 'node:http';

/**
 * Does a `Host` header name this listener by one of its own loopback names (127.0.0.1, localhost or [::1], with
 * its port)? A page that rebinds its own name to 127.0.0.1 (DNS rebinding) still sends its own name here.
 */
export function isOwnLoopbackHost(host: string | undefined, port: number): boolean {
  if (host === undefined) return false;
  const name = host.toLowerCase();
  return name === `127.0.0.1:${port}` || name === `localhost:${port}` || name === `[::1]:${port}`;
}

/**
 * Was this request made by a web page? Browsers send `Origin` on cross-origin requests and on every POST, and
 * `Sec-Fetch-*` on every request (Chromium, Firefox, Safari); SDKs and command-line clients send neither.
 */
export function isBrowserRequest(headers: IncomingHttpHeaders): boolean {
  if (headers.origin !== undefined) return true;
  for (const name in headers) if (name.startsWith('sec-fetch-')) return true;
  return false;
}
