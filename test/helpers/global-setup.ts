// Once per test run: DynamoDB Local for every file that touches the store, and a directory for shared artifacts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from './dynamodb-local';

declare module 'vitest' {
  export interface ProvidedContext {
    /** DynamoDB Local's endpoint; each file takes its own access key id, hence its own database. */
    dynamodbLocalEndpoint: string;
    /** Shared artifacts of this run (the synthesized deployment), removed at teardown. */
    runDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runDir = mkdtempSync(join(tmpdir(), 'regionwatch-test-run-'));
  const dynamodb = await startDynamoDbLocal();
  project.provide('dynamodbLocalEndpoint', dynamodb.endpoint);
  project.provide('runDir', runDir);
  return async () => {
    await dynamodb.stop();
    rmSync(runDir, { recursive: true, force: true });
  };
}
