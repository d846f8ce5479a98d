// The tcp check: a connect to the guarded address, closed at once. Refused, unreachable or slow is what it tells.
import { connect, isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ProbeResult, Timings } from '../../core/results';
import type { CheckContext } from '../context';
import { Deadline, raceDeadline } from '../deadline';
import { classifyError, type Phase } from '../errors';
import { bareHost, resolveGuarded } from '../resolve-host';
import { failed, passed, type ResolvedTcpTarget } from './result';

export async function tcpCheck(target: ResolvedTcpTarget, ctx: CheckContext): Promise<ProbeResult> {
  const started = performance.now();
  const deadline = new Deadline(target.timeoutMs, ctx.roundSignal);
  const timings: Timings = {};
  let phase: Phase = 'dns';
  const seen = () => ({ latencyMs: performance.now() - started, timings });
  try {
    const literal = isIP(bareHost(target.host)) !== 0;
    const meta = { region: target.region, target: target.name, hop: 0 };
    const pinned = literal ? await resolveGuarded(target.host, ctx, undefined, meta) : await raceDeadline(resolveGuarded(target.host, ctx, deadline.signal, meta), deadline);
    if (!literal) timings.dnsMs = performance.now() - started;
    phase = 'connect';
    const connectStart = performance.now();
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ host: pinned.address, family: pinned.family, port: target.port });
      socket.once('close', deadline.onExpire(() => socket.destroy()));
      socket.on('error', reject);
      socket.once('close', () => reject(new Error('closed before connecting')));
      socket.once('connect', () => {
        timings.connectMs = performance.now() - connectStart;
        socket.destroy();
        resolve();
      });
    });
    return passed(target, seen());
  } catch (error: unknown) {
    return failed(target, seen(), deadline.expired ? deadline.failure(phase) : classifyError(error, phase));
  } finally {
    deadline.dispose();
  }
}
