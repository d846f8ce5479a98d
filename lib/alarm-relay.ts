// Relaying checker alarms along the heartbeat ring: each region's alarm state changes also reach on-call through the
// next probe region's checker topic, so a region whose own SNS (or topic, or key) is broken does not alarm into silence.
import { Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface AlarmRelayProps {
  /** What every checker alarm's name starts with, the same in every region (lib/names.ts `alarmPrefix`). */
  readonly alarmNamePrefix: string;
  /**
   * The next probe region's default bus with the heartbeat ring's forwarding role (ProberHeartbeat `watcherBus`).
   * @default - nothing is forwarded (one probe region: the ring closes on itself)
   */
  readonly watcherBus?: events.IRuleTarget;
  /** The previous probe region, whose relayed alarm changes this region publishes. */
  readonly watchedRegion: string;
  /** This region's checker topic (Observability), where relayed alarm changes are published. */
  readonly checkerTopic: sns.Topic;
  /** The checker topic's key (the region's one key, lib/region-key.ts): EventBridge must be able to use it to publish. */
  readonly topicKey: kms.IKey;
}

/** What CloudWatch puts on the default bus whenever an alarm changes state (free, and independent of alarm actions). */
const ALARM_STATE_CHANGE = 'CloudWatch Alarm State Change';
/** Only the transitions on-call acts on: INSUFFICIENT_DATA is not relayed. */
const RELAYED_STATES = ['ALARM', 'OK'];

/** The event pattern of this deployment's alarm state changes that happened in `region`. */
export function alarmChangePattern(alarmNamePrefix: string, region: string): events.EventPattern {
  return {
    source: ['aws.cloudwatch'],
    detailType: [ALARM_STATE_CHANGE],
    // The event keeps its region when forwarded, so this also keeps a relayed change from being forwarded again.
    region: [region],
    detail: { alarmName: events.Match.prefix(alarmNamePrefix), state: { value: RELAYED_STATES } },
  };
}

/**
 * Every alarm of a region notifies that region's checker topic, so if SNS stops there (or its topic or key is
 * broken), `NotificationsStuck`, `NotificationDeliveryFailed` and the rest change state and tell nobody. Along the
 * heartbeat ring (lib/prober-heartbeat.ts):
 *
 * - here, a rule forwards this region's own alarm state changes (ALARM and OK, matched by name prefix) to the next
 *   probe region's default bus, with the ring's forwarding role;
 * - here too, a rule matches the changes relayed from the previous region and publishes them, as one readable line
 *   and the key fields, to this region's checker topic, which lets EventBridge publish for that rule only.
 *
 * The relay uses neither region's aggregator nor the alarm region's SNS. Every change reaches on-call twice while
 * both regions are healthy (once from each topic, the relayed one marked). With one probe region the ring closes on
 * itself and nothing is relayed: that region's SNS is then watched by nothing outside it.
 */
export class AlarmRelay extends Construct {
  readonly forwardRule?: events.Rule;
  readonly receiveRule?: events.Rule;

  constructor(scope: Construct, id: string, props: AlarmRelayProps) {
    super(scope, id);
    const region = Stack.of(this).region;
    if (props.watcherBus) {
      this.forwardRule = new events.Rule(this, 'ForwardToWatcher', {
        description: "Forwards this region's regionwatch alarm changes (ALARM, OK) to the next probe region, which publishes them to its checker topic",
        eventPattern: alarmChangePattern(props.alarmNamePrefix, region),
        targets: [props.watcherBus],
      });
    }
    if (props.watchedRegion === region) return;

    this.receiveRule = new events.Rule(this, 'PublishRelayed', {
      description: `Publishes the regionwatch alarm changes relayed from ${props.watchedRegion} to this region's checker topic`,
      eventPattern: alarmChangePattern(props.alarmNamePrefix, props.watchedRegion),
    });
    // The stock SnsTopic target grants every EventBridge rule (no aws:SourceArn) and kms:GenerateDataKey*; this
    // grants this rule only, and the two KMS actions SNS needs from a publisher.
    props.checkerTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [props.checkerTopic.topicArn],
        conditions: { ArnEquals: { 'aws:SourceArn': this.receiveRule.ruleArn } },
      }),
    );
    // No aws:SourceArn or aws:SourceAccount condition here: SNS documents that they are not supported in a key policy
    // for EventBridge publishing to an encrypted topic (the KMS request does not carry them, so every relayed alarm
    // would be dropped). Which rule may publish is decided by the topic policy above.
    props.topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
      }),
    );
    this.receiveRule.addTarget({
      bind: () => ({ arn: props.checkerTopic.topicArn, input: relayedAlarmMessage(region) }),
    });
  }
}

/**
 * The relayed message: one line an email subject-reader understands, then the key fields. EventBridge escapes the
 * inserted values inside this string template.
 */
export function relayedAlarmMessage(relayingRegion: string): events.RuleTargetInput {
  const field = (path: string) => events.EventField.fromPath(path);
  const alarm = field('$.detail.alarmName');
  const state = field('$.detail.state.value');
  const from = events.EventField.region;
  return events.RuleTargetInput.fromText(
    [
      `[CHECKER] relayed from ${from}: ${alarm} is ${state}: ${field('$.detail.state.reason')}`,
      `alarm: ${alarm}`,
      `state: ${state} (was ${field('$.detail.previousState.value')}) at ${field('$.detail.state.timestamp')}`,
      `region: ${from}`,
      `about: ${field('$.detail.configuration.description')}`,
      `Relayed by ${relayingRegion}: the alarm's own region also notified its checker topic, which may not be delivering.`,
    ].join('\n'),
  );
}
