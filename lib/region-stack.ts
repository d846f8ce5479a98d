// One probe region's stack: its key, its VPC placement (when configured), its replica of both global tables (the home
// stack owns them), its claims table, its prober, aggregator, notifications, prober heartbeat ring, observability and the alarm relay.
import { shardPlan } from '../lambda/config/capacity';
import { Stack, Tags, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { RegionwatchConfig } from '../lambda/config/schema';
import { probeEgress } from '../lambda/config/egress';
import { platformRegions } from '../lambda/config/resolve';
import { Aggregator } from './aggregator';
import { AlarmRelay } from './alarm-relay';
import { ClaimsTable } from './claims-table';
import type { FunctionDefaults } from './function';
import { IncidentsTable } from './incidents-table';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { queueArn, resourceNames, roundsQueueName, stackName, watchedProbeRegion, watcherProbeRegion } from './names';
import { Notifier } from './notifier';
import { Observability } from './observability';
import { Prober } from './prober';
import { parkedMessagesQueue } from './queues';
import { ProberHeartbeat } from './prober-heartbeat';
import { RegionKey } from './region-key';
import { RegionNetwork } from './network';
import { ResultsTable } from './results-table';
import { StatusPage } from './status-page';

export interface RegionWatchStackProps extends StackProps {
  /** The validated config. */
  readonly config: RegionwatchConfig;
  /** The probe region this stack runs in (also its `env.region`). */
  readonly probeRegion: string;
}

export class RegionWatchStack extends Stack {
  readonly probeRegion: string;
  readonly isHome: boolean;
  readonly key: RegionKey;
  /** Only when the config's `vpc` is set. */
  readonly network?: RegionNetwork;
  readonly resultsTable: ResultsTable;
  readonly incidentsTable: IncidentsTable;
  readonly claimsTable: ClaimsTable;
  /** The region's one queue for what failed every retry (lib/queues.ts parkedMessagesQueue), alarmed on. */
  readonly parkedMessages: sqs.Queue;
  readonly prober: Prober;
  readonly aggregator: Aggregator;
  readonly notifier: Notifier;
  readonly heartbeat: ProberHeartbeat;
  readonly observability: Observability;
  readonly alarmRelay: AlarmRelay;
  /** The hosted status page: in the home region's stack, when statusPage.mode is public or private. */
  readonly statusPage?: StatusPage;

  constructor(scope: Construct, id: string, props: RegionWatchStackProps) {
    super(scope, id, {
      ...props,
      // Account-agnostic, region-explicit: synth needs no credentials and no lookups.
      env: { region: props.probeRegion },
    });
    const { config, probeRegion } = props;
    this.probeRegion = probeRegion;
    this.isHome = probeRegion === config.homeRegion;
    const names = resourceNames(config.platform);
    Tags.of(this).add('regionwatch:platform', config.platform);

    this.key = new RegionKey(this, 'Key');
    const vpc = config.vpc?.[probeRegion];
    if (vpc) this.network = new RegionNetwork(this, 'Network', { vpc, probeEgress: probeEgress(config) });
    const functionDefaults: FunctionDefaults = {
      logs: { key: this.key.key, retentionDays: config.logs.retentionDays },
      network: this.network,
    };

    this.resultsTable = new ResultsTable(this, 'Results', {
      tableName: names.resultsTable,
      probeRegions: config.probeRegions,
      homeRegion: config.homeRegion,
      functionDefaults,
    });
    this.incidentsTable = new IncidentsTable(this, 'Incidents', {
      tableName: names.incidentsTable,
      probeRegions: config.probeRegions,
      homeRegion: config.homeRegion,
    });
    this.claimsTable = new ClaimsTable(this, 'Claims', { tableName: names.claimsTable });
    // One queue for everything in the region that failed every retry, and one alarm on it (lib/queues.ts).
    this.parkedMessages = parkedMessagesQueue(this, 'ParkedMessages', queueArn(this, probeRegion, roundsQueueName(probeRegion)));
    if (this.isHome && config.statusPage.mode !== 'off') {
      this.statusPage = new StatusPage(this, 'StatusPage', { config, parkedMessages: this.parkedMessages, functionDefaults, key: this.key.key, incidentsTable: this.incidentsTable, functionName: names.statusRendererFunction });
    }
    // Notifications link to the page: its own address at home; elsewhere only a domain of your own is known at synth
    // (a *.cloudfront.net name or a bucket's lives in the home stack, and stacks share nothing at synth time).
    const statusPageUrl = this.statusPage?.url ?? (config.statusPage.mode === 'public' && config.statusPage.domainName ? `https://${config.statusPage.domainName}/` : undefined);
    this.notifier = new Notifier(this, 'Notifications', {
      config,
      parkedMessages: this.parkedMessages,
      key: this.key.key,
      functionDefaults,
      slackFunctionName: names.slackNotifierFunction,
      incidentsTable: this.incidentsTable,
      ...(statusPageUrl ? { statusPageUrl } : {}),
    });
    this.prober = new Prober(this, 'Prober', {
      config,
      parkedMessages: this.parkedMessages,
      resultsTable: this.resultsTable,
      claimsTable: this.claimsTable,
      functionName: names.proberFunction,
      functionDefaults,
    });
    this.aggregator = new Aggregator(this, 'Aggregator', {
      config,
      parkedMessages: this.parkedMessages,
      resultsTable: this.resultsTable,
      incidentsTable: this.incidentsTable,
      notifier: this.notifier,
      functionName: names.aggregatorFunction,
      functionDefaults,
    });
    const watchedRegion = watchedProbeRegion(config.probeRegions, probeRegion);
    this.heartbeat = new ProberHeartbeat(this, 'ProberHeartbeat', {
      localProber: this.prober.fn.function,
      watcherRegion: watcherProbeRegion(config.probeRegions, probeRegion),
      watchedRegion,
      proberFunctionName: names.proberFunction,
      logs: functionDefaults.logs,
    });
    this.observability = new Observability(this, 'Observability', {
      emails: config.notifications.emails,
      topicKey: this.key.key,
      // One dashboard for the whole deployment, in the home region, when the config asks for it (observability.dashboard):
      // its widgets read every probe region.
      dashboard: this.isHome && config.observability.dashboard
        ? {
            name: names.dashboard,
            probeRegions: config.probeRegions,
            platformRegions: platformRegions(config),
            proberFunctionName: names.proberFunction,
            aggregatorFunctionName: names.aggregatorFunction,
            stackName,
          }
        : undefined,
      prober: this.prober.fn.function,
      aggregator: this.aggregator.fn.function,
      aggregatorLogGroup: this.aggregator.fn.logGroup,
      parkedMessages: this.parkedMessages,
      notificationsTopic: this.notifier.topic,
      ...(this.statusPage ? { statusRenderer: this.statusPage.renderer.function } : {}),
      sharded: shardPlan(config).shards > 1,
      peerHeartbeats: this.heartbeat.watchedHeartbeats,
      watchedRegion,
      alarmNamePrefix: names.alarmPrefix,
    });
    this.alarmRelay = new AlarmRelay(this, 'AlarmRelay', {
      alarmNamePrefix: names.alarmPrefix,
      watcherBus: this.heartbeat.watcherBus,
      watchedRegion,
      checkerTopic: this.observability.checkerTopic,
      topicKey: this.key.key,
    });
  }
}
