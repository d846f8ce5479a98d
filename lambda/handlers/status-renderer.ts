// Status page renderer Lambda: on the incident table's stream (what the page shows changed) and every five minutes,
// renders the page's files from the table and writes the changed ones to the page's bucket.
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { renderHostedPage, type HostedRender } from '../status-page/hosted';
import { PublishedFiles, STATUS_OBJECT_KEYS } from '../status-page/publish';
import { DynamoIncidentStore } from '../store/incident-store';
import { ENV, requireEnv } from './env';
import { readBundledConfig } from './bundled-config';

// Not re-validated: the schema would push the bundle past 500 KB, and synth validated this very object.
const config = readBundledConfig();
const bucket = requireEnv(ENV.statusBucket);
const incidentsTable = requireEnv(ENV.incidentsTable);
const pageUrl = process.env[ENV.statusPageUrl] || undefined;

const logger = new Logger({ serviceName: 'regionwatch-status-renderer' });
const s3 = new S3Client({});
const store = new DynamoIncidentStore({ client: DynamoDBDocumentClient.from(new DynamoDBClient({})), tableName: incidentsTable });
const published = new PublishedFiles();

/** Any event renders the whole page (a stream batch or the schedule): what changed is read from the table, not the event. */
export async function handler(_event: unknown, context?: Context): Promise<HostedRender> {
  if (context !== undefined) logger.addContext(context);
  const outcome = await renderHostedPage({
    store,
    config,
    nowMs: Date.now(),
    ...(pageUrl ? { pageUrl } : {}),
    readPrevious: async () => {
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: STATUS_OBJECT_KEYS.status }));
        return await out.Body?.transformToString();
      } catch (error: unknown) {
        if (error instanceof NoSuchKey || (error instanceof Error && error.name === 'NoSuchKey')) return undefined;
        throw error;
      }
    },
    put: async (file) => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: file.path, Body: file.body, ContentType: file.contentType, CacheControl: file.cacheControl }));
    },
    published,
  });
  logger.info('rendered the status page', { written: outcome.written, unchanged: outcome.unchanged.length, ms: Math.round(outcome.ms) });
  return outcome;
}
