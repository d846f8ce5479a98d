// Functions in the user's VPC (config `vpc`): imported by id with no lookup, a security group per kind of egress with
// only the egress it needs, and network-interface permissions statement by statement instead of the managed policy.
import { describe, expect, it } from 'vitest';
import { rendered, resourcesOfType, roleStatements, type CfnResourceJson, type Scenario } from './synth';

const PROVIDER = 'AWS679f53fac002430cb0da5b7982bd2287';

/** Cases for a scenario whose config sets `vpc` for every probe region. */
export function networkCases(label: string, scenario: { readonly current: Scenario }): void {
  const vpcOf = (region: string) => {
    const vpc = scenario.current.config.vpc?.[region];
    if (!vpc) throw new Error(`the scenario has no VPC for ${region}`);
    return vpc;
  };
  const groups = (region: string) => resourcesOfType(scenario.current.json(region), 'AWS::EC2::SecurityGroup');
  const egressOf = (region: string, group: CfnResourceJson | undefined) =>
    (rendered(scenario.current.stack(region), group?.Properties?.SecurityGroupEgress) as Record<string, unknown>[]).map(
      ({ IpProtocol, FromPort, ToPort, CidrIp, CidrIpv6 }) => `${String(IpProtocol)} ${String(FromPort)}-${String(ToPort)} ${String(CidrIp ?? CidrIpv6)}`,
    );

  describe(`functions in the VPC with ${label}`, () => {
    it("runs every function, the stream custom resource's included, in its region's configured subnets", () => {
      const { config, json, stack } = scenario.current;
      for (const region of config.probeRegions) {
        const functions = resourcesOfType(json(region), 'AWS::Lambda::Function');
        const groupOf: Record<string, string> = {
          ProberFunction: '${NetworkProber.GroupId}',
          AggregatorFunction: '${NetworkAwsApis.GroupId}',
          NotificationsSlackNotifierFunction: '${NetworkAwsApis.GroupId}',
          NotificationsPagerDutyOncallFunction: '${NetworkAwsApis.GroupId}',
          NotificationsWebhookOpsgenieFunction: '${NetworkAwsApis.GroupId}',
          StatusPageRendererFunction: '${NetworkAwsApis.GroupId}',
          [PROVIDER]: `\${${PROVIDER}SecurityGroup.GroupId}`,
        };
        // The stream custom resource outside the home region, the status page renderer in it.
        const expected = Object.keys(groupOf).filter((id) => (region === config.homeRegion ? id !== PROVIDER : id !== 'StatusPageRendererFunction'));
        expect(Object.keys(functions).sort()).toEqual(expected.sort());
        for (const [id, fn] of Object.entries(functions)) {
          expect(rendered(stack(region), fn.Properties?.VpcConfig), `${region} ${id}`).toEqual({ SubnetIds: vpcOf(region).subnetIds, SecurityGroupIds: [groupOf[id]] });
        }
      }
    });

    it('makes no lookups: the VPC and subnets are ids from the config, nothing is missing from the assembly', () => {
      const { assembly, config, json } = scenario.current;
      expect(assembly.manifest.missing ?? []).toEqual([]);
      for (const region of config.probeRegions) {
        for (const group of Object.values(groups(region))) expect(group.Properties?.VpcId).toBe(vpcOf(region).vpcId);
        // The imported VPC's Availability Zones are a token that is never rendered.
        expect(JSON.stringify(json(region))).not.toContain('Fn::GetAZs');
      }
    });

    it('opens no inbound rule and only the egress each function needs', () => {
      const { config } = scenario.current;
      for (const region of config.probeRegions) {
        const all = groups(region);
        for (const group of Object.values(all)) expect(group.Properties?.SecurityGroupIngress).toBeUndefined();
        // The prober: 443 (https targets and AWS APIs) and each other port a target uses, and the configured DNS resolver.
        expect(egressOf(region, all.NetworkProber)).toEqual([
          'tcp 443-443 0.0.0.0/0',
          'tcp 5432-5432 0.0.0.0/0',
          'tcp 8080-8080 0.0.0.0/0',
          'udp 53-53 192.0.2.53/32',
          'tcp 53-53 192.0.2.53/32',
        ]);
        expect(egressOf(region, all.NetworkAwsApis)).toEqual(['tcp 443-443 0.0.0.0/0']);
        // CDK made the custom resource's group (it takes none); it is narrowed to HTTPS too.
        if (region !== config.homeRegion) expect(egressOf(region, all[`${PROVIDER}SecurityGroup`])).toEqual(['tcp 443-443 0.0.0.0/0']);
      }
    });

    it.each(['ProberRole', 'AggregatorRole', 'NotificationsSlackNotifierRole', 'ResultsReplicaStreamProviderRole'])(
      'lets %s manage network interfaces in the configured subnets with its own security group only, with no managed policy',
      (role) => {
        const { config, json } = scenario.current;
        const region = config.probeRegions.find((r) => r !== config.homeRegion) ?? config.homeRegion;
        const group = { ProberRole: 'NetworkProber', ResultsReplicaStreamProviderRole: `${PROVIDER}SecurityGroup` }[role] ?? 'NetworkAwsApis';
        const ec2 = (resource: string) => `arn:aws:ec2:${region}:\${AWS::AccountId}:${resource}`;
        // Each ec2 action with each resource it is granted on (policy minimization may merge statements of other grants).
        const granted = (roleStatements(json(region), role) as { Action: string | string[]; Resource: string | string[] }[]).flatMap((st) =>
          [st.Action].flat().filter((a) => a.startsWith('ec2:')).flatMap((a) => [st.Resource].flat().map((r) => `${a} ${r}`)),
        );
        const createOn = [ec2('network-interface/*'), ...vpcOf(region).subnetIds.map((id) => ec2(`subnet/${id}`)), ec2(`security-group/\${${group}.GroupId}`)];
        expect(granted.sort()).toEqual(
          [
            ...createOn.map((r) => `ec2:CreateNetworkInterface ${r}`),
            ...['ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'].map((a) => `${a} ${ec2('network-interface/*')}`),
            'ec2:DescribeNetworkInterfaces *',
            'ec2:DescribeSubnets *',
          ].sort(),
        );
        const roles = Object.entries(json(region).Resources).filter(([id, r]) => r.Type === 'AWS::IAM::Role' && id.startsWith(role));
        expect(roles).toHaveLength(1);
        expect(roles[0]?.[1].Properties?.ManagedPolicyArns).toBeUndefined();
      },
    );
  });
}
