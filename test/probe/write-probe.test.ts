// A read-only platform: reads succeed, the write probe is refused; the prober reports that honestly for the aggregator to combine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saysReadOnly } from '../../lambda/probe/assertions';
import { runRound } from '../../lambda/probe/round';
import { startFaultyServer, type FaultyServer } from '../helpers/servers';
import { realClock, testConfig } from './fixtures';

let server: FaultyServer;
beforeAll(async () => {
  server = await startFaultyServer();
});
afterAll(async () => {
  await server.close();
});

describe('write probe against a read-only platform', () => {
  it('reports reads up and the refused write down with error class status and role write-probe', async () => {
    const origin = server.origin;
    const config = testConfig({
      us: [
        { name: 'api', type: 'http', url: `${origin}/read-only`, expect: { bodyContains: 'ok' } },
        { name: 'write-path', type: 'http', method: 'POST', url: `${origin}/read-only`, role: 'write-probe', body: '{"canary":true}' },
        { name: 'write-200-read-only', type: 'http', method: 'PUT', url: `${origin}/read-only-200`, role: 'write-probe', body: 'x' },
      ],
      eu: [{ name: 'write-path', type: 'http', method: 'POST', url: `${origin}/writable`, role: 'write-probe', body: '{}' }],
    });
    const round = await runRound({ config, probeRegion: 'us-east-1', slot: 1_764_400_000, deadlineAt: Date.now() + 3000 }, realClock);
    const [read, write, write200, euWrite] = round.results;
    expect(read).toMatchObject({ region: 'us', target: 'api', role: 'read', status: 'up' });
    expect(write).toMatchObject({ region: 'us', target: 'write-path', role: 'write-probe', status: 'down', errorClass: 'status', statusCode: 503, detail: 'write refused with status 503' });
    expect(write200).toMatchObject({ role: 'write-probe', status: 'down', errorClass: 'status', statusCode: 200 });
    expect(write200?.detail).toContain('read-only');
    expect(euWrite).toMatchObject({ region: 'eu', role: 'write-probe', status: 'up', statusCode: 201 });
    const posts = server.requests.filter((r) => r.method === 'POST' && r.path === '/read-only');
    expect(posts).toHaveLength(1);
    expect(posts[0]?.headers['content-length']).toBe('15');
  });
});

describe('saysReadOnly', () => {
  it.each([
    ['{"error":"platform is read-only"}', true],
    ['{"message":"ok","note":"docs are read-only"}', false],
    ['{"readOnly":true}', true],
    ['{"status":{"read_only":true}}', true],
    ['{"mode":"read-only"}', true],
    ['{"readOnly":false,"accepted":true}', false],
    ['Service is in READ ONLY mode', true],
    ['database is readonly', true],
    ['created', false],
    ['', false],
  ])('%s → %s', (body, expected) => {
    expect(saysReadOnly(body)).toBe(expected);
  });
});
