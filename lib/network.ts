// The user's VPC in one probe region (config `vpc`), imported by id, and the security groups regionwatch's functions use in it.
import { Fn, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { AWS_API_PORT, type ProbeEgress } from '../lambda/config/egress';
import type { FunctionVpcConfig } from '../lambda/config/schema';

/** What a function reaches: the prober also every target; everything else only AWS APIs (and Slack's webhook), over HTTPS. */
export type FunctionEgress = 'probe-targets' | 'aws-apis';

export interface RegionNetworkProps {
  /** This probe region's entry of the config's `vpc`: ids only, so synth looks nothing up. */
  readonly vpc: FunctionVpcConfig;
  /** The ports and resolvers the config's targets need (lambda/config/egress.ts). */
  readonly probeEgress: ProbeEgress;
}

/**
 * Functions in the user's VPC leave through its private subnets' NAT gateways: every probe then comes from the NAT
 * gateways' Elastic IPs, which a platform can allowlist (docs/deploy.md). Lambda creates one network interface per
 * subnet and security group, shared by every function using the pair.
 *
 * The security groups have no inbound rules (nothing connects to a Lambda function) and only the egress each function
 * needs: the prober's group opens the TCP ports the targets use (and 443 for AWS APIs) and its DNS resolvers; the
 * other group, for the aggregator, the Slack notifier and the stream-ARN custom resource, only 443. Traffic to the
 * VPC's own DNS resolver is not filtered by security groups.
 */
export class RegionNetwork extends Construct {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.ISubnet[];
  readonly probeSecurityGroup: ec2.SecurityGroup;
  readonly awsApiSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: RegionNetworkProps) {
    super(scope, id);
    // The Availability Zones are never read (the subnets are given by id), but an imported VPC must be given some:
    // a deploy-time Fn::GetAZs token, never rendered, keeps synth free of lookups.
    this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', { vpcId: props.vpc.vpcId, availabilityZones: Fn.getAzs() });
    Validations.of(this).acknowledge(
      {
        id: '@aws-cdk/aws-ec2:vpcAttributeIsListTokenavailabilityZones',
        reason: 'Nothing here selects subnets by Availability Zone: every function is given the configured subnets by id.',
      },
      {
        id: '@aws-cdk/aws-ec2:noSubnetRouteTableId',
        reason: "Nothing here reads a subnet's route table: the subnets only place functions, and their routes (to the NAT gateways) are the VPC owner's.",
      },
    );
    this.subnets = props.vpc.subnetIds.map((subnetId) => ec2.Subnet.fromSubnetId(this, subnetId, subnetId));
    this.probeSecurityGroup = new ec2.SecurityGroup(this, 'Prober', {
      vpc: this.vpc,
      description: 'regionwatch prober: out to the targets ports (and 443 for AWS APIs), nothing in',
      allowAllOutbound: false,
    });
    for (const port of props.probeEgress.tcpPorts) {
      this.probeSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(port), port === AWS_API_PORT ? 'HTTPS: targets and AWS APIs' : `targets on TCP ${port}`);
    }
    for (const resolver of props.probeEgress.resolvers) {
      const peer = resolver.family === 6 ? ec2.Peer.ipv6(`${resolver.address}/128`) : ec2.Peer.ipv4(`${resolver.address}/32`);
      this.probeSecurityGroup.addEgressRule(peer, ec2.Port.udp(resolver.port), `DNS resolver ${resolver.address}`);
      this.probeSecurityGroup.addEgressRule(peer, ec2.Port.tcp(resolver.port), `DNS resolver ${resolver.address} (TCP fallback)`);
    }
    this.awsApiSecurityGroup = new ec2.SecurityGroup(this, 'AwsApis', {
      vpc: this.vpc,
      description: 'regionwatch aggregator, Slack notifier and custom resource: out to HTTPS only, nothing in',
      allowAllOutbound: false,
    });
    this.awsApiSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(AWS_API_PORT), 'HTTPS: AWS APIs and the notification channels');
  }

  /** The Lambda props that place a function in this VPC with the security group for its egress. */
  placement(egress: FunctionEgress): Required<Pick<lambda.FunctionOptions, 'vpc' | 'vpcSubnets' | 'securityGroups'>> {
    return { vpc: this.vpc, vpcSubnets: { subnets: this.subnets }, securityGroups: [this.securityGroup(egress)] };
  }

  securityGroup(egress: FunctionEgress): ec2.SecurityGroup {
    return egress === 'probe-targets' ? this.probeSecurityGroup : this.awsApiSecurityGroup;
  }

  /**
   * What Lambda needs from a function's role to attach it to the VPC, statement by statement instead of the managed
   * AWSLambdaVPCAccessExecutionRole (which is `*` on everything, and cdk-nag's IAM4): creating network interfaces only
   * in these subnets with this security group; deleting them and moving their private addresses only in this account
   * and region. The describe actions have no resource type in IAM, so they take `*`. `egress` names the function's
   * security group (or is the group itself, for a function whose group CDK made).
   */
  grantNetworkInterfaces(role: iam.Role, egress: FunctionEgress | ec2.ISecurityGroup): void {
    const stack = Stack.of(this);
    const securityGroup = typeof egress === 'string' ? this.securityGroup(egress) : egress;
    const arn = (resource: string, resourceName: string) => stack.formatArn({ service: 'ec2', resource, resourceName });
    const anyInterface = arn('network-interface', '*');
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['ec2:CreateNetworkInterface'],
        resources: [anyInterface, ...this.subnets.map((s) => arn('subnet', s.subnetId)), arn('security-group', securityGroup.securityGroupId)],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
        resources: [anyInterface],
      }),
    );
    role.addToPolicy(new iam.PolicyStatement({ actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'], resources: ['*'] }));
    Validations.of(role).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets have no resource type in IAM, so they can only be granted on "*"; they read network metadata. Lambda needs them to attach the function to the VPC.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:${stack.region}:<AWS::AccountId>:network-interface/*]`,
        reason: "Lambda creates the function's network interfaces itself, so their ids are unknown until then: interfaces of this account and region only, created only in the configured subnets with regionwatch's security group.",
      },
    );
  }
}
