// The assertions an HTTP check makes on a response, as pure functions: status, header, body text, JSON path, write refusal.
import type { IncomingHttpHeaders } from 'node:http';
import type { HttpTargetConfig } from '../config/schema';
import type { ErrorClass } from '../core/results';

export interface AssertionFailure {
  errorClass: ErrorClass;
  detail: string;
}

/** Statuses a platform answers a write with while it is read-only (or otherwise refusing writes). */
export const WRITE_REFUSAL_STATUSES: readonly number[] = [403, 405, 409, 423, 503];

export interface ResponseFacts {
  statusCode: number;
  headers: IncomingHttpHeaders;
  /** First maxBodyBytes of the decoded body (empty if not read). */
  body: Buffer;
  truncated: boolean;
  maxBodyBytes: number;
}

/**
 * The first failed assertion, or undefined when the response passes. Order: status, header, body text, JSON path,
 * then (write probes only) a 2xx whose body still says the platform is read-only.
 *
 * `too-large` is reported only when a body assertion could not be decided within the cap: a body longer than
 * the cap passes if what the assertion looks for is inside the cap, and a check without body assertions
 * never looks at the body's length.
 */
export function firstFailedAssertion(target: Pick<HttpTargetConfig, 'expect' | 'role'>, facts: ResponseFacts): AssertionFailure | undefined {
  const { expect } = target;
  const statusOk = expect.status ? expect.status.includes(facts.statusCode) : facts.statusCode >= 200 && facts.statusCode < 300;
  if (!statusOk) {
    const wanted = expect.status ? expect.status.join(', ') : '2xx';
    const refused = target.role === 'write-probe' && WRITE_REFUSAL_STATUSES.includes(facts.statusCode);
    return {
      errorClass: 'status',
      detail: refused ? `write refused with status ${facts.statusCode}` : `status ${facts.statusCode}, expected ${wanted}`,
    };
  }
  if (expect.header) {
    const failure = checkHeader(expect.header, facts.headers);
    if (failure) return { errorClass: 'assertion', detail: failure };
  }
  const cap = `the first ${facts.maxBodyBytes} bytes`;
  const text = expect.bodyContains !== undefined || expect.json || target.role === 'write-probe' ? facts.body.toString('utf8') : '';
  if (expect.bodyContains !== undefined && !text.includes(expect.bodyContains)) {
    return facts.truncated
      ? { errorClass: 'too-large', detail: `"${clip(expect.bodyContains)}" not in ${cap} of a longer body` }
      : { errorClass: 'assertion', detail: `body does not contain "${clip(expect.bodyContains)}"` };
  }
  if (expect.json) {
    if (facts.truncated) return { errorClass: 'too-large', detail: `JSON body longer than ${facts.maxBodyBytes} bytes` };
    const parsed = parseJson(text);
    if (!parsed.ok) return { errorClass: 'assertion', detail: 'body is not JSON' };
    const found = jsonPath(parsed.value, expect.json.path);
    if (!found.ok) return { errorClass: 'assertion', detail: `${expect.json.path} is missing` };
    if (found.value !== expect.json.equals) {
      return { errorClass: 'assertion', detail: `${expect.json.path} is ${describe(found.value)}, expected ${describe(expect.json.equals)}` };
    }
  }
  if (target.role === 'write-probe' && saysReadOnly(text)) {
    return { errorClass: 'status', detail: `write answered ${facts.statusCode} but the body says the platform is read-only` };
  }
  return undefined;
}

function checkHeader(rule: NonNullable<HttpTargetConfig['expect']['header']>, headers: IncomingHttpHeaders): string | undefined {
  const raw = headers[rule.name.toLowerCase()];
  if (raw === undefined) return `header ${rule.name} is missing`;
  const value = Array.isArray(raw) ? raw.join(', ') : raw;
  if (rule.equals !== undefined && value !== rule.equals) return `header ${rule.name} is "${clip(value)}", expected "${clip(rule.equals)}"`;
  if (rule.contains !== undefined && !value.includes(rule.contains)) return `header ${rule.name} does not contain "${clip(rule.contains)}"`;
  return undefined;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/** Evaluates the config's JSON path subset: `$.a.b`, `$.list[0].c` (the schema validates the shape). */
export function jsonPath(root: unknown, path: string): { ok: true; value: unknown } | { ok: false } {
  const steps = [...path.matchAll(/\.([A-Za-z0-9_-]+)|\[(\d+)\]/g)];
  let current: unknown = root;
  for (const [, key, index] of steps) {
    if (key !== undefined) {
      if (current === null || typeof current !== 'object' || Array.isArray(current) || !Object.hasOwn(current, key)) return { ok: false };
      current = (current as Record<string, unknown>)[key];
    } else if (index !== undefined) {
      if (!Array.isArray(current) || Number(index) >= current.length) return { ok: false };
      current = current[Number(index)] as unknown;
    }
  }
  return { ok: true, value: current };
}

const READ_ONLY_WORDS = /^read[-_ ]?only$/i;

/**
 * Does a write probe's body say the platform refused the write because it is read-only?
 * JSON: a `readOnly`-like key set to true, a `mode`/`status`/`state` of "read-only", or an `error`/`message`/`reason`/`detail`
 * mentioning read-only (so `"readOnly": false` is not a refusal).
 * Text: the words "read-only" / "read only" / "readonly".
 */
export function saysReadOnly(text: string): boolean {
  if (text.trim() === '') return false;
  const parsed = parseJson(text);
  if (parsed.ok) return jsonSaysReadOnly(parsed.value, 0);
  return /\bread[-_ ]?only\b/i.test(text);
}

function jsonSaysReadOnly(value: unknown, depth: number): boolean {
  if (depth > 4 || value === null || typeof value !== 'object') return false;
  for (const [key, inner] of Object.entries(value)) {
    if (READ_ONLY_WORDS.test(key) && inner === true) return true;
    if (/^(mode|status|state)$/i.test(key) && typeof inner === 'string' && READ_ONLY_WORDS.test(inner.trim())) return true;
    if (/^(error|message|reason|detail)$/i.test(key) && typeof inner === 'string' && /\bread[-_ ]?only\b/i.test(inner)) return true;
    if (jsonSaysReadOnly(inner, depth + 1)) return true;
  }
  return false;
}

function clip(text: string, max = 60): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

function describe(value: unknown): string {
  const json = JSON.stringify(value);
  return clip(json === undefined ? String(value) : json);
}
