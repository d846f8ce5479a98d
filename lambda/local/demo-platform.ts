// The bundled demo platform: one loopback HTTP server per platform region, replaying the demo script on a clock.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RegionwatchConfigInput } from '../config/schema';
import type { Clock } from './clock';
import { faultAt, type DemoScript } from './demo-script';

/** The probe header every prober sends (DESIGN.md, "Probe requests"). */
export const PROBE_REGION_HEADER = 'x-regionwatch-probe-region';

export interface DemoRegionServer {
  region: string;
  port: number;
  /** Base URL, such as http://127.0.0.1:41234 */
  url: string;
}

export interface DemoPlatform {
  regions: DemoRegionServer[];
  /** Requests served, by `region path probe-region` (the probe region from the header, `-` when absent). */
  requestCounts(): Map<string, number>;
  /** Cuts one probe region off (its requests are reset) or lets it back: a prober's own network trouble. */
  partition(probeRegion: string, cut: boolean): void;
  close(): Promise<void>;
}

export interface DemoPlatformOptions {
  script: DemoScript;
  clock: Clock;
}

/**
 * Starts one server per platform region of the script on 127.0.0.1 (ports picked by the OS).
 * `GET /health` answers 200 `{"status":"ok"}` unless the region is down; `POST|PUT /canary`
 * answers 201 unless the region is down or read-only. A down region answers 503 to both.
 */
export async function startDemoPlatform(options: DemoPlatformOptions): Promise<DemoPlatform> {
  const counts = new Map<string, number>();
  const partitioned = new Set<string>();
  const servers: Server[] = [];
  const regions: DemoRegionServer[] = [];
  try {
    for (const region of options.script.platformRegions) {
      const server = createServer((req, res) => handle(region, req, res));
      // Probers use keep-alive; idle sockets must not hold close() up.
      server.keepAliveTimeout = 2000;
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
      const { port } = server.address() as AddressInfo;
      regions.push({ region, port, url: `http://127.0.0.1:${port}` });
    }
  } catch (error: unknown) {
    await closeAll(servers);
    throw error;
  }

  function handle(region: string, req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const probeRegion = headerValue(req.headers[PROBE_REGION_HEADER]) ?? '-';
    const key = `${region} ${path} ${probeRegion}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (partitioned.has(probeRegion)) {
      req.socket.destroy();
      return;
    }
    // Drain any request body so keep-alive sockets stay usable.
    req.resume();
    const fault = faultAt(options.script, region, options.clock.now());
    const send = (status: number, body: Record<string, unknown>) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (path === '/health' && (req.method === 'GET' || req.method === 'HEAD')) {
      if (fault?.fault === 'down') send(503, { status: 'unavailable', region });
      else send(200, { status: 'ok', region, mode: fault?.fault ?? 'read-write' });
      return;
    }
    if (path === '/canary' && (req.method === 'POST' || req.method === 'PUT')) {
      if (fault?.fault === 'down') send(503, { status: 'unavailable', region });
      else if (fault?.fault === 'read-only') send(503, { status: 'read-only', region, error: 'writes are refused after failover' });
      else send(201, { status: 'ok', region, written: true });
      return;
    }
    send(404, { status: 'not found', path });
  }

  return {
    regions,
    requestCounts: () => new Map(counts),
    partition: (probeRegion, cut) => {
      if (cut) partitioned.add(probeRegion);
      else partitioned.delete(probeRegion);
    },
    close: () => closeAll(servers),
  };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

async function closeAll(servers: Server[]): Promise<void> {
  await Promise.all(
    servers.map(
      (server) =>
        new Promise<void>((resolve) => {
          if (!server.listening) {
            resolve();
            return;
          }
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    ),
  );
}

/** The demo's config: every platform region's health check and write probe, probed from three probe regions. */
export function demoConfig(platform: DemoPlatform): RegionwatchConfigInput {
  const regions: RegionwatchConfigInput['regions'] = {};
  for (const { region, url } of platform.regions) {
    regions[region] = {
      targets: [
        { name: 'api', type: 'http', url: `${url}/health`, expect: { status: [200], bodyContains: 'ok' } },
        {
          name: 'write-path',
          type: 'http',
          method: 'POST',
          role: 'write-probe',
          url: `${url}/canary`,
          body: '{"probe":true}',
          headers: { 'content-type': 'application/json' },
        },
      ],
    };
  }
  return {
    platform: 'demo',
    probeRegions: ['us-east-1', 'eu-west-1', 'ap-southeast-1'],
    homeRegion: 'us-east-1',
    defaults: { intervalSeconds: 10, timeoutMs: 2000, failureThreshold: 2, recoveryThreshold: 3, quorum: 2, degradedLatencyMs: 1500 },
    regions,
    // The demo platform lives on loopback; no jitter, since every round is replayed on a fast clock.
    probing: { allowPrivateAddresses: true, jitterMs: 0 },
    notifications: { emails: [], slackWebhookSecretName: null, reminderMinutes: 30 },
    maintenance: [],
  };
}
