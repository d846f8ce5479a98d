// `regionwatch notify test [--aws]`: a clearly marked test notification through every configured channel, and what
// happened on each. Exit 0 when every channel delivered it, 1 when any failed or could not be tried, 2 on bad usage.
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import { EXIT, UsageError, type Command, type CommandIo } from './command';
import { DEFAULT_SECRETS_FILE, SLACK_WEBHOOK_ENV } from './local';
import { loadConfigFile } from '../config/load';
import { AWS_REGION_PATTERN } from '../config/schema';
import { testNotification } from '../core/test-notification';
import { requireCredentials, StoreError } from '../store/local-store';
import { ChannelSecretError, LocalSecretsFile } from '../notify/channel-secret';
import { localChannels } from '../notify/local-channels';
import { formatNotificationLine } from '../notify/local-sinks';
import { allDelivered, notifyTestLocally, notifyTestOnAws, type AwsClients, type ChannelOutcome } from '../notify/notify-test';

/** Test seam: the AWS clients of a region (real ones by default). */
export type AwsClientsFactory = (region: string) => AwsClients;

const realClients: AwsClientsFactory = (region) => ({ lambda: new LambdaClient({ region, maxAttempts: 2 }), sns: new SNSClient({ region, maxAttempts: 2 }) });

const MARK: Record<ChannelOutcome['result'], string> = { delivered: 'ok     ', failed: 'FAILED ', skipped: 'SKIPPED' };

export function formatOutcomes(outcomes: readonly ChannelOutcome[]): string[] {
  const where = Math.max(5, ...outcomes.map((o) => o.where.length));
  const channel = Math.max(7, ...outcomes.map((o) => o.channel.length));
  return outcomes.map((o) => `  ${MARK[o.result]} ${o.where.padEnd(where)}  ${o.channel.padEnd(channel)}  ${o.detail}`);
}

export function notifyCommand(clients: AwsClientsFactory = realClients): Command {
  return {
    name: 'notify',
    summary: 'notify test: send a clearly marked test notification through every configured channel (locally, or --aws through the deployed ones)',
    usage: `regionwatch notify test [--config FILE] [--secrets FILE (default ${DEFAULT_SECRETS_FILE})] [--aws [--region R]] [--json]`,
    options: {
      aws: { type: 'boolean', default: false },
      region: { type: 'string', multiple: true },
      secrets: { type: 'string', default: DEFAULT_SECRETS_FILE },
    },
    async run({ values, positionals }, io: CommandIo) {
      const [sub, ...extra] = positionals;
      if (sub !== 'test' || extra.length > 0) throw new UsageError(sub === undefined ? 'say what to do: regionwatch notify test' : `unknown notify subcommand "${[sub, ...extra].join(' ')}"; the one there is: test`);
      const regionsFlag = Array.isArray(values.region) ? values.region : [];
      if (values.aws !== true && regionsFlag.length > 0) throw new UsageError('--region chooses probe regions to test on AWS and needs --aws');
      for (const r of regionsFlag) if (!AWS_REGION_PATTERN.test(r)) throw new UsageError(`--region must be an AWS region such as us-east-1, got "${r}"`);
      const config = loadConfigFile(resolve(io.cwd, String(values.config)));
      const testId = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
      const make = (from: string) => testNotification({ platform: config.platform, testId, from, nowMs: Date.now() });
      let outcomes: ChannelOutcome[];
      if (values.aws === true) {
        const regions = regionsFlag.length > 0 ? regionsFlag : config.probeRegions;
        const unknown = regions.filter((r) => !config.probeRegions.includes(r));
        if (unknown.length > 0) throw new UsageError(`--region ${unknown.join(', ')} is not a probe region of this config (${config.probeRegions.join(', ')})`);
        outcomes = [];
        for (const region of regions) {
          const c = clients(region);
          try {
            await requireCredentials(() => c.lambda.config.credentials(), region);
            outcomes.push(...(await notifyTestOnAws(config, region, c, testId, make)));
          } catch (error: unknown) {
            if (!(error instanceof StoreError)) throw error;
            io.err(`regionwatch notify test: ${error.message}`);
            return EXIT.finding;
          } finally {
            c.lambda.destroy();
            c.sns.destroy();
          }
        }
      } else {
        let secrets: LocalSecretsFile;
        try {
          secrets = new LocalSecretsFile(resolve(io.cwd, String(values.secrets)));
        } catch (error: unknown) {
          if (!(error instanceof ChannelSecretError)) throw error;
          throw new UsageError(error.message);
        }
        const slack = process.env[SLACK_WEBHOOK_ENV];
        const channels = localChannels(config, { secrets, ...(slack ? { slackWebhookUrl: slack } : {}) });
        const notification = make('this machine');
        if (values.json !== true) io.out(`  ${formatNotificationLine(notification)}`);
        outcomes = await notifyTestLocally(channels, notification);
        outcomes.push({ where: 'local', channel: 'SNS topics', result: 'skipped', detail: 'not on this machine: regionwatch notify test --aws publishes on each probe region\'s topic' });
      }
      const ok = allDelivered(outcomes.filter((o) => !(o.channel === 'SNS topics' && o.where === 'local')));
      if (values.json) {
        io.out(JSON.stringify({ testId, dedupKey: `test/${testId}`, ok, outcomes }, null, 2));
      } else {
        io.out(`regionwatch notify test ${testId} for ${config.platform}, ${values.aws === true ? 'through the deployed channels' : 'from this machine'}:`);
        for (const line of formatOutcomes(outcomes)) io.out(line);
        const failed = outcomes.filter((o) => o.result === 'failed').length;
        const skipped = outcomes.filter((o) => o.result === 'skipped' && o.channel !== 'SNS topics').length;
        io.out(ok ? 'every channel took the test notification' : `${failed} failed, ${skipped} not tried: see above`);
      }
      return ok ? EXIT.ok : EXIT.finding;
    },
  };
}

export const notifyTestCommand = notifyCommand();
