// Reads an SNS message body back into a NotificationBody, leniently: what a subscriber needs must be there, the rest gets defaults.
import * as z from 'zod';
import type { NotificationBody } from '../core/notification';

const verdict = z.enum(['up', 'degraded', 'read-only', 'down', 'maintenance', 'unknown']);

const seenBy = z.object({
  probeRegion: z.string(),
  status: z.enum(['up', 'degraded', 'down']),
  errorClass: z.string().optional(),
  statusCode: z.number().optional(),
  latencyMs: z.number().optional(),
  detail: z.string().optional(),
});

const target = z.object({
  target: z.string(),
  verdict: verdict.catch('unknown'),
  failingFrom: z.array(z.string()).catch([]),
  // One odd probe-region entry should not cost the whole message.
  seenBy: z.array(z.unknown()).catch([]).transform((xs) => xs.flatMap((x) => {
    const r = seenBy.safeParse(x);
    return r.success ? [r.data] : [];
  })),
});

const body = z.object({
  event: z.enum(['opened', 'escalated', 'deescalated', 'resolved', 'reminder', 'checker', 'test']),
  incidentId: z.string().nullable(),
  region: z.string().nullable(),
  severity: verdict,
  at: z.string(),
  summary: z.string(),
  dedupKey: z.string().min(1),
  evidence: z
    .object({
      targets: z.array(target).catch([]),
      probeRegions: z
        .object({ fresh: z.array(z.string()).catch([]), stale: z.array(z.string()).catch([]), impaired: z.array(z.string()).catch([]) })
        .catch({ fresh: [], stale: [], impaired: [] }),
      downSeconds: z.number().optional().catch(undefined),
      degradedSeconds: z.number().optional().catch(undefined),
      readOnlySeconds: z.number().optional().catch(undefined),
      component: z.string().optional().catch(undefined),
    })
    .catch({ targets: [], probeRegions: { fresh: [], stale: [], impaired: [] } }),
});

export type ParsedBody = { ok: true; body: NotificationBody } | { ok: false; reason: string };

/** Parses the SNS `Message` text; never throws. */
export function parseNotificationBody(message: string): ParsedBody {
  let json: unknown;
  try {
    json = JSON.parse(message);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const r = body.safeParse(json);
  if (!r.success) {
    const first = r.error.issues[0];
    return { ok: false, reason: first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'not a notification' };
  }
  return { ok: true, body: r.data as NotificationBody };
}
