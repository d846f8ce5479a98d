// The package version, sent in every probe's User-Agent (DESIGN.md "Probe requests"); a test pins it to package.json.
export const VERSION = '0.1.0';

/** `regionwatch/<version>`: lets a platform recognise, exempt or rate-limit probes. */
export const USER_AGENT = `regionwatch/${VERSION}`;
