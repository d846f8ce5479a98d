// The aggregator engine against DynamoDB Local: fault matrix rows 3, 6, 7, 8, 9, 10 and 21 with real conditional writes.
import { describe, expect, it } from 'vitest';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { incidentItem } from '../../lambda/store/incident-store';
import { handleStreamBatch } from '../../lambda/aggregator/stream';
import { NotificationPublishError } from '../../lambda/notify/sns-publisher';
import { countWrites, useTestStore } from '../helpers/store';
import { faults, T0, testConfig } from '../core/harness';
import { rig, streamRecord } from './rig';
import { toRoundItems } from '../../lambda/store/results-store';
import type { RoundRecord } from '../../lambda/core/results';

const store = useTestStore();
const at = (second: number) => (T0 + second) * 1000 + 3000;

describe('confirmations through the stream (FAULTS 20)', () => {
  it('a batch of confirmation items alone decides at their slot, before the other rounds of it, and opens one incident on them', async () => {
    const config = testConfig();
    const r = await rig(store.current, config, faults({}));
    const engine = r.engine();
    for (let s = 0; s <= 20; s += 10) await r.writeSlot(s);
    r.clock.ms = at(20);
    await engine.run();
    // At 30 s us-east-1's round sees us/api fail at 30.4 s; every probe region confirms it at 32.5 s (minFaultSeconds 2
    // later). The other probe regions' rounds of slot 30 have not run yet: staggered, they start later in the slot.
    const slot = T0 + 30;
    const down = (atMs: number): RoundRecord['results'][number] => ({ region: 'us', target: 'api', role: 'read', status: 'down', errorClass: 'timeout', latencyMs: 1500, at: atMs });
    const round: RoundRecord = { probeRegion: 'us-east-1', slot, intervalSeconds: 10, startedAt: slot * 1000 + 400, finishedAt: slot * 1000 + 1900, part: 0, parts: 1, results: [down(slot * 1000 + 400)] };
    const confirmations: RoundRecord[] = config.probeRegions.map((p) => ({
      probeRegion: p,
      slot,
      intervalSeconds: 10,
      startedAt: slot * 1000 + 2500,
      finishedAt: slot * 1000 + 4000,
      part: 0,
      parts: 1,
      results: [down(slot * 1000 + 2500)],
      kind: 'confirmation',
      batch: `us-east-1/${slot}/0`,
    }));
    await r.results.writeRound(round);
    for (const c of confirmations) await r.results.writeRound(c);
    r.clock.ms = slot * 1000 + 6200;
    const records = confirmations.flatMap((c, n) => toRoundItems(c, 48).map((item) => streamRecord(item, `confirm-${n}`)));
    const outcome = await handleStreamBatch({ Records: records }, (regions) => engine.run({ regions }));
    expect(outcome.batchItemFailures).toEqual([]);
    expect(outcome.poison).toEqual([]);
    expect(outcome.run?.evaluatedSlot).toBe(slot);
    expect(r.publisher.sent.map((n) => [n.event, n.region, n.severity, n.dedupKey])).toEqual([['opened', 'us', 'down', `us/us-00001/opened/${slot}`]]);
    expect(r.publisher.sent[0]?.subject).toBe('[DOWN] us is down: api failing from 3/3 probe regions');
    // The same confirmations delivered again (a duplicated batch) change nothing.
    await handleStreamBatch({ Records: records }, (regions) => engine.run({ regions }));
    expect(r.publisher.sent).toHaveLength(1);
    expect(await r.incidents.openIncidents()).toHaveLength(1);
  });
});

describe('aggregator engine on DynamoDB Local', () => {
  it('row 3: one incident with its index attributes, one opened and one resolved page, a status item per region', async () => {
    const r = await rig(store.current, testConfig(), faults({ us: [[100, 300, 'down']] }));
    const engine = r.engine();
    let openSeen = 0;
    for (let s = 0; s < 400; s += 10) {
      await r.writeSlot(s);
      r.clock.ms = at(s);
      await engine.run();
      if (s === 200) {
        const open = await r.incidents.openIncidents();
        openSeen = open.length;
        expect(open[0]).toMatchObject({ incidentId: 'us-00001', status: 'open', severity: 'down' });
      }
    }
    expect(openSeen).toBe(1);
    expect(r.publisher.sent.map((n) => `${n.event}:${n.region}`)).toEqual(['opened:us', 'resolved:us']);
    expect(await r.incidents.openIncidents()).toEqual([]);
    const history = await r.incidents.regionIncidents('us', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z');
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ status: 'resolved', downSeconds: 200, outbox: [] });
    expect(history[0]?.notifications.map((n) => n.event)).toEqual(['opened', 'resolved']);
    const statuses = await r.incidents.statuses(['us', 'eu', 'apac']);
    expect(statuses.map((s) => [s.region, s.verdict])).toEqual([['us', 'up'], ['eu', 'up'], ['apac', 'up']]);
  });

  it('row 7: two aggregators acting at once produce one incident and publish each transition once', async () => {
    const r = await rig(store.current, testConfig(), faults({ us: [[50, 150, 'down'], [250, 350, 'read-only']] }));
    // Same lease identity: two concurrent invocations both believe they hold it, the worst case for the writes.
    const a = r.engine({ tuning: { reopenWindowSeconds: 60 } });
    const b = r.engine({ tuning: { reopenWindowSeconds: 60 } });
    let conflicts = 0;
    for (let s = 0; s < 450; s += 10) {
      await r.writeSlot(s);
      r.clock.ms = at(s);
      const [x, y] = await Promise.all([a.run(), b.run()]);
      conflicts += x.conflicts + y.conflicts;
    }
    const history = await r.incidents.regionIncidents('us', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z');
    expect(history.map((i) => [i.incidentId, i.status, i.downSeconds, i.readOnlySeconds])).toEqual([
      ['us-00001', 'resolved', 100, 0],
      ['us-00002', 'resolved', 0, 100],
    ]);
    const keys = r.publisher.sent.map((n) => n.dedupKey);
    expect(new Set(keys).size).toBe(keys.length);
    expect(r.publisher.sent.map((n) => n.event)).toEqual(['opened', 'resolved', 'opened', 'resolved']);
    expect(conflicts).toBeGreaterThan(0);
  });

  it('row 8: a crash between the write and the publish pages on the next run, once', async () => {
    const r = await rig(store.current, testConfig(), faults({ us: [[100, 200, 'down']] }));
    let crashes = 0;
    const crashing = r.engine({
      crash: (point) => {
        if (point === 'after-write' && crashes === 0) {
          crashes++;
          throw new Error('killed');
        }
      },
    });
    const failures: string[] = [];
    let owedAfterCrash: string[] | null = null;
    for (let s = 0; s < 300; s += 10) {
      await r.writeSlot(s);
      r.clock.ms = at(s);
      await crashing.run().catch((e: unknown) => failures.push(String(e)));
      if (owedAfterCrash === null && failures.length === 1) {
        expect(r.publisher.sent).toEqual([]);
        const [open] = await r.incidents.openIncidents();
        owedAfterCrash = open?.outbox.map((o) => o.notification.event) ?? [];
      }
    }
    expect(failures).toEqual(['Error: killed']);
    // Right after the crash, the transition is stored with the page it owes (nothing lost).
    expect(owedAfterCrash).toEqual(['opened']);
    expect(r.publisher.sent.map((n) => n.event)).toEqual(['opened', 'resolved']);
    const [incident] = await r.incidents.regionIncidents('us', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z');
    expect(incident?.outbox).toEqual([]);
    // Published on the run right after the crash (10 s later), not lost and not doubled.
    expect(Date.parse(incident?.notifications[0]?.publishedAt ?? '') - Date.parse(incident?.notifications[0]?.at ?? '')).toBe(10_000);
  });

  it('row 8: a crash after the publish and before the mark republishes once, in a later run after the claim expires, with the same dedupKey', async () => {
    const r = await rig(store.current, testConfig(), faults({ us: [[100, 400, 'down']] }));
    let crashed = false;
    const engine = r.engine({
      claimMs: 5_000,
      crash: (point) => {
        if (point === 'after-publish' && !crashed) {
          crashed = true;
          throw new Error('killed after publish');
        }
      },
    });
    /** Which run (its clock, ms) each publish of `opened` happened in. */
    const openedIn: number[] = [];
    const failures: string[] = [];
    let crashedAt: number | null = null;
    const runAt = async (ms: number) => {
      r.clock.ms = ms;
      const before = r.publisher.sent.length;
      const run = await engine.run().catch((e: unknown) => {
        failures.push(String(e));
        return null;
      });
      for (const n of r.publisher.sent.slice(before)) if (n.event === 'opened') openedIn.push(ms);
      // A crash is not a publish failure: nothing is retried inside the run that died.
      if (run) expect(run.publishFailures).toBe(0);
      return run;
    };
    for (let s = 0; s < 200; s += 10) {
      await r.writeSlot(s);
      await runAt(at(s));
      if (crashedAt === null && failures.length > 0) {
        crashedAt = at(s);
        // Still claimed (claimMs 5 s): a run 2 s later does not republish.
        await runAt(crashedAt + 2_000);
      }
    }
    expect(failures).toEqual(['Error: killed after publish']);
    expect(crashedAt).not.toBeNull();
    // Once in the run that crashed, once more in the next run after the claim expired (10 s later), never again.
    expect(openedIn).toEqual([crashedAt, (crashedAt ?? 0) + 10_000]);
    const opened = r.publisher.sent.filter((n) => n.event === 'opened');
    expect(opened[0]?.dedupKey).toBe(opened[1]?.dedupKey);
    const [open] = await r.incidents.openIncidents();
    expect(open?.outbox).toEqual([]);
    expect(open?.notifications.map((n) => n.dedupKey)).toEqual([opened[0]?.dedupKey]);
  });

  it('row 6: the same stream batch delivered twice changes nothing', async () => {
    const r = await rig(store.current, testConfig(), faults({ us: [[100, 200, 'down']] }));
    const engine = r.engine();
    const runs: Record<string, unknown>[] = [];
    for (let s = 0; s < 300; s += 10) {
      const records = await r.writeSlot(s);
      r.clock.ms = at(s);
      await handleStreamBatch({ Records: records }, (regions) => engine.run({ regions }));
      const before = JSON.stringify(await r.incidents.readRegion('us'));
      const sentBefore = r.publisher.sent.length;
      // Not one write to the incident table: status, incidents and lease alike.
      const writes = countWrites(store.current, r.incidentsTable);
      const again = await handleStreamBatch({ Records: records }, (regions) => engine.run({ regions }));
      writes.stop();
      expect(JSON.stringify(await r.incidents.readRegion('us'))).toBe(before);
      expect(r.publisher.sent.length).toBe(sentBefore);
      runs.push({ transitions: again.run?.transitions.length, published: again.run?.published.length, writes: writes.count });
    }
    expect(runs.every((x) => x.transitions === 0 && x.published === 0 && x.writes === 0), JSON.stringify(runs)).toBe(true);
    expect(r.publisher.sent.map((n) => n.event)).toEqual(['opened', 'resolved']);
    const [incident] = await r.incidents.regionIncidents('us', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z');
    expect(incident).toMatchObject({ downSeconds: 100, degradedSeconds: 0 });
  });

  it('row 21: DynamoDB Local returns the status and incident items with their attributes in another order, and 30 redeliveries write nothing, bump no version, page nobody', async () => {
    const r = await rig(store.current, testConfig(), faults({ us: [[100, 400, 'down']] }));
    const engine = r.engine();
    let batch: Awaited<ReturnType<typeof r.writeSlot>> = [];
    for (let s = 0; s <= 200; s += 10) {
      batch = await r.writeSlot(s);
      r.clock.ms = at(s);
      await handleStreamBatch({ Records: batch }, (regions) => engine.run({ regions }));
    }
    const state = await r.incidents.readRegion('us');
    const [incident] = state.incidents;
    if (!state.status || !incident) throw new Error('no open incident to redeliver against');
    // What the store wrote and what DynamoDB Local gives back: the same attributes, not in the same order.
    const raw = async (sk: string) => {
      const { Item } = await store.current.client.send(new GetItemCommand({ TableName: r.incidentsTable, Key: { pk: { S: 'region#us' }, sk: { S: sk } }, ConsistentRead: true }));
      return Object.keys(Item ?? {});
    };
    const writtenIncident = Object.keys(incidentItem(incident, incident.version));
    const readIncident = await raw('incident#00001');
    expect([...readIncident].sort()).toEqual([...writtenIncident].sort());
    expect(readIncident).not.toEqual(writtenIncident);
    const writtenStatus = Object.keys({ ...state.status, pk: '', sk: '', kind: '', version: 0 });
    const readStatus = await raw('status');
    expect([...readStatus].sort()).toEqual([...writtenStatus].sort());
    expect(readStatus).not.toEqual(writtenStatus);

    const sent = r.publisher.sent.length;
    const writes = countWrites(store.current, r.incidentsTable);
    for (let n = 0; n < 30; n++) await handleStreamBatch({ Records: batch }, (regions) => engine.run({ regions }));
    writes.stop();
    expect(writes.count).toBe(0);
    const after = await r.incidents.readRegion('us');
    expect(after.status?.version).toBe(state.status.version);
    expect(after.incidents[0]?.version).toBe(incident.version);
    expect(r.publisher.sent.length).toBe(sent);
  });

  it('row 9 without a quarantine: a poison record is reported failed and the rest of the batch is processed', async () => {
    const r = await rig(store.current, testConfig(), faults({ us: [[0, 100, 'down']] }));
    const engine = r.engine();
    await r.writeSlot(0);
    const good = await r.writeSlot(10);
    r.clock.ms = at(10);
    const poison = streamRecord({ pk: 'rounds', sk: 'x', kind: 'round', probeRegion: 'eu-west-1', slot: T0, results: new Uint8Array([1, 2, 3]) }, 'poison-1');
    const noImage = { eventID: 'poison-2', eventName: 'MODIFY' as const, dynamodb: { SequenceNumber: 'poison-2' } };
    const outcome = await handleStreamBatch({ Records: [good[0], poison, ...good.slice(1), noImage].filter((x) => x !== undefined) }, (regions) => engine.run({ regions }));
    expect(outcome.batchItemFailures).toEqual([{ itemIdentifier: 'poison-1' }, { itemIdentifier: 'poison-2' }]);
    expect(outcome.poison[0]?.reason).toMatch(/^PoisonRecordError: round item results do not decode/);
    expect(outcome.run?.acted).toBe(true);
    expect(r.publisher.sent.map((n) => n.event)).toEqual(['opened']);
  });

  it('row 10: a failing publish is retried, kept pending, raises a checker alert, and goes out once SNS is back', async () => {
    const r = await rig(store.current, testConfig(), faults({ us: [[100, 2000, 'down']] }));
    const engine = r.engine({ publishTries: 3, alertAfterAttempts: 3 });
    r.publisher.failWith = new NotificationPublishError('Rate exceeded', 'throttled', true, 'ThrottledException', 'x');
    let stuckSeen = 0;
    for (let s = 0; s < 200; s += 10) {
      await r.writeSlot(s);
      r.clock.ms = at(s);
      const run = await engine.run();
      stuckSeen = Math.max(stuckSeen, run.stuck);
    }
    const [open] = await r.incidents.openIncidents();
    expect(open?.outbox).toHaveLength(1);
    expect(open?.outbox[0]).toMatchObject({ notification: { event: 'opened' }, lastError: 'throttled (ThrottledException)' });
    expect(open?.outbox[0]?.attempts).toBeGreaterThanOrEqual(3);
    expect(stuckSeen).toBeGreaterThan(0);
    const checker = await r.incidents.readChecker();
    expect(checker?.outbox.map((o) => o.notification.subject)).toEqual([expect.stringContaining('[CHECKER] notifications are failing to publish')]);
    // Three tries per run, runs from the opening on.
    expect(r.publisher.calls).toBeGreaterThan(3 * 3);

    r.publisher.failWith = null;
    await r.writeSlot(200);
    r.clock.ms = at(200);
    await engine.run();
    await r.writeSlot(210);
    r.clock.ms = at(210);
    await engine.run();
    expect(r.publisher.sent.map((n) => n.event)).toEqual(['opened', 'checker']);
    expect((await r.incidents.openIncidents())[0]?.outbox).toEqual([]);
    expect((await r.incidents.readChecker())?.outbox).toEqual([]);
  });

  it('row 10: while SNS stays down for hours the outbox keeps the opened page and only the newest reminder', async () => {
    const config = testConfig({ notifications: { reminderMinutes: 5 } });
    const r = await rig(store.current, config, faults({ us: [[100, 3000, 'down']] }));
    const engine = r.engine({ publishTries: 1, alertAfterAttempts: 3 });
    r.publisher.failWith = new NotificationPublishError('Rate exceeded', 'throttled', true, 'ThrottledException', 'x');
    for (let s = 0; s < 1100; s += 10) {
      await r.writeSlot(s);
      r.clock.ms = at(s);
      await engine.run();
    }
    // Opened at 110 s; reminders fell due at about 410, 710 and 1010 s: three owed, the newest kept.
    const [open] = await r.incidents.openIncidents();
    expect(open?.remindersSent).toBe(3);
    expect(open?.outbox.map((o) => o.notification.event)).toEqual(['opened', 'reminder']);
    expect(open?.outbox[1]?.notification.dedupKey).toMatch(/\/reminder\/3$/);
    // One checker alert for the stuck opened page and one for the incident's reminders, not one per reminder.
    const alerts = (await r.incidents.readChecker())?.outbox.map((o) => o.notification.dedupKey) ?? [];
    expect(alerts.filter((k) => k.startsWith('checker/publish-failing/'))).toEqual([
      expect.stringMatching(/\/opened\/\d+$/),
      expect.stringMatching(/\/us-00001\/reminder$/),
    ]);

    r.publisher.failWith = null;
    for (let s = 1100; s < 1130; s += 10) {
      await r.writeSlot(s);
      r.clock.ms = at(s);
      await engine.run();
    }
    expect(r.publisher.sent.filter((n) => n.region === 'us').map((n) => n.event)).toEqual(['opened', 'reminder']);
  });

  it('a non-retryable publish failure is not retried within the run', async () => {
    const r = await rig(store.current, testConfig(), faults({ us: [[100, 2000, 'down']] }));
    const engine = r.engine({ publishTries: 3 });
    r.publisher.failWith = new NotificationPublishError('not authorized', 'access-denied', false, 'AuthorizationErrorException', 'x');
    for (let s = 0; s < 120; s += 10) {
      await r.writeSlot(s);
      r.clock.ms = at(s);
      await engine.run();
    }
    expect(r.publisher.calls).toBe(1);
  });

  it('row 10: a KMS or access-denied failure keeps the page pending run after run, alerts the checker, and sends it once when fixed', async () => {
    const r = await rig(store.current, testConfig(), faults({ us: [[100, 2000, 'down']] }));
    const engine = r.engine({ publishTries: 3, alertAfterAttempts: 3 });
    r.publisher.failWith = new NotificationPublishError('key disabled', 'kms', false, 'KMSDisabledException', 'x');
    for (let s = 0; s < 160; s += 10) {
      await r.writeSlot(s);
      r.clock.ms = at(s);
      await engine.run();
    }
    // Opened at 110 s, then tried once on each of the 5 runs to 150 s (never retried within a run), and never dropped.
    const [open] = await r.incidents.openIncidents();
    expect(open?.outbox.map((o) => [o.notification.event, o.attempts, o.lastError])).toEqual([['opened', 5, 'kms (KMSDisabledException)']]);
    expect(open?.notifications).toEqual([]);
    expect((await r.incidents.readChecker())?.outbox.map((o) => o.notification.subject)).toEqual([expect.stringContaining('[CHECKER] notifications are failing to publish')]);

    r.publisher.failWith = null;
    for (let s = 160; s < 190; s += 10) {
      await r.writeSlot(s);
      r.clock.ms = at(s);
      await engine.run();
    }
    expect(r.publisher.sent.map((n) => n.event)).toEqual(['opened', 'checker']);
    const [after] = await r.incidents.openIncidents();
    expect(after?.outbox).toEqual([]);
    expect(after?.notifications.map((n) => n.dedupKey)).toEqual([open?.outbox[0]?.notification.dedupKey]);
  });
});

describe('quiet runs', () => {
  it('a batch of only up results, in a window this engine already found quiet, reads nothing; the next slot, a failure and an open incident are evaluated, and the page comes when it did', async () => {
    const config = testConfig();
    const r = await rig(store.current, config, faults({ us: [[50, 200, 'down']] }));
    let reads = 0;
    const engine = r.engine({
      rounds: {
        readRounds: async (from, to) => {
          reads++;
          return r.results.readRounds(from, to);
        },
      },
    });
    // Each probe region's round item as its own batch, 3.3 s apart, as staggered rounds reach a replica.
    const slotBatches = async (second: number) => {
      const records = await r.writeSlot(second);
      const runs = [];
      for (const [n, record] of records.entries()) {
        r.clock.ms = at(second) + n * 3300;
        runs.push((await handleStreamBatch({ Records: [record] }, (regions, batch) => engine.run({ regions, allUp: batch.allUp }))).run);
      }
      return runs;
    };
    for (let s = 0; s <= 20; s += 10) await r.writeSlot(s);
    // The first batch of a slot is evaluated; the other two, all up and the deployment quiet, read nothing.
    for (const second of [30, 40]) {
      const before = reads;
      const runs = await slotBatches(second);
      expect(runs.map((run) => run?.quiet ?? false), `slot ${second}`).toEqual([false, true, true]);
      expect(runs.every((run) => run?.acted)).toBe(true);
      expect(reads - before, `slot ${second}`).toBe(1);
    }
    // US fails from 50 s: every batch with a failing result is evaluated, and so is everything while the incident is open.
    for (const second of [50, 60, 70]) expect((await slotBatches(second)).map((run) => run?.quiet ?? false), `slot ${second}`).toEqual([false, false, false]);
    expect(r.publisher.sent.map((n) => [n.event, n.region, n.dedupKey])).toEqual([['opened', 'us', `us/us-00001/opened/${T0 + 60}`]]);
    // A standby is never quiet: it returns after the lease, and a new process knows nothing.
    const fresh = r.engine({ probeRegion: 'eu-west-1' });
    expect((await fresh.run({ allUp: true })).acted).toBe(false);
  });
});
