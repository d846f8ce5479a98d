// Every construct's template assertions against the example config, synthesized once (bundling skipped).
import { aggregatorCases } from './aggregator.cases';
import { alarmRelayCases } from './alarm-relay.cases';
import { appCases } from './app.cases';
import { incidentsTableCases } from './incidents-table.cases';
import { notifierCases } from './notifier.cases';
import { observabilityCases } from './observability.cases';
import { proberHeartbeatCases } from './prober-heartbeat.cases';
import { proberCases } from './prober.cases';
import { regionKeyCases } from './region-key.cases';
import { resultsTableCases } from './results-table.cases';
import { statusPageCases } from './status-page.cases';
import { exampleConfig, useScenario } from './synth';

const scenario = useScenario(exampleConfig);

appCases('the example config (3 probe regions)', scenario);
regionKeyCases('the example config', scenario);
resultsTableCases(scenario);
incidentsTableCases(scenario);
proberCases(scenario);
aggregatorCases(scenario);
notifierCases(scenario);
proberHeartbeatCases(scenario);
observabilityCases(scenario);
statusPageCases(scenario);
alarmRelayCases('the example config (3 probe regions)', scenario);
