// The example config with the `vpc` option: every function in the user's VPC, and then every Control Tower control about
// functions passes (the status page's bucket and distribution keep their acknowledgements).
import { readFileSync } from 'node:fs';
import { appCases } from './app.cases';
import { networkCases } from './network.cases';
import { regionKeyCases } from './region-key.cases';
import { EXAMPLE_CONFIG_FILE, useScenario } from './synth';
import { parseConfig } from '../../lambda/config/load';
import type { RegionwatchConfigInput } from '../../lambda/config/schema';

/** The example, its VPCs, and two more targets whose egress the prober's security group must open: TCP 8080 and a DNS resolver. */
export function vpcExampleConfig() {
  const raw = JSON.parse(readFileSync(EXAMPLE_CONFIG_FILE, 'utf8')) as RegionwatchConfigInput;
  const us = raw.regions.us?.targets ?? [];
  us.push(
    { name: 'admin', type: 'http', url: 'http://admin.us.acme.example:8080/health' },
    { name: 'dns', type: 'dns', hostname: 'api.us.acme.example', resolver: '192.0.2.53' },
  );
  const vpc = (n: number) => ({ vpcId: `vpc-0${n}23456789abcdef0`, subnetIds: [`subnet-0${n}a3456789abcdef0`, `subnet-0${n}b3456789abcdef0`] });
  return parseConfig({ ...raw, vpc: { 'us-east-1': vpc(1), 'eu-west-1': vpc(2), 'ap-southeast-1': vpc(3) } }, 'vpc example');
}

const scenario = useScenario(vpcExampleConfig);
appCases('the example config in VPCs', scenario);
regionKeyCases('the example config in VPCs', scenario);
networkCases('the example config in VPCs', scenario);
