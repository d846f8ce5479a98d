// The embedded DynamoDB-API store (dynalite): local mode persists it under the data directory, tests keep it in memory.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { isBrowserRequest, isOwnLoopbackHost } from '../local/loopback-guard';

export interface EmbeddedStore {
  endpoint: string;
  /** A low-level client pointed at the store. */
  client: DynamoDBClient;
  /** The document client every store class takes. */
  documentClient: DynamoDBDocumentClient;
  close(): Promise<void>;
}

export interface EmbeddedStoreOptions {
  /** LevelDB directory; in memory when omitted. */
  path?: string;
  /** Port on 127.0.0.1; 0 picks a free one. */
  port?: number;
}

/**
 * Starts dynalite on loopback and returns clients for it. Tables become ACTIVE at once.
 *
 * dynalite answers every origin (`Access-Control-Allow-Origin: *`), so any web page open in the user's browser
 * could read and write the store on 127.0.0.1. Requests a browser made (an `Origin` or `Sec-Fetch-*` header) and
 * requests for another host name (DNS rebinding) are refused before dynalite sees them, with no CORS headers.
 */
export async function startEmbeddedStore(options: EmbeddedStoreOptions = {}): Promise<EmbeddedStore> {
  const server = dynalite({ path: options.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const handlers = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  let port = 0; // known once listening; no request arrives before
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (isBrowserRequest(req.headers)) return refuse(res, 403, 'the embedded store does not answer web pages\n');
    if (!isOwnLoopbackHost(req.headers.host, port)) return refuse(res, 421, `the embedded store answers only to http://127.0.0.1:${port}\n`);
    for (const handle of handlers) handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const documentClient = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return {
    endpoint,
    client,
    documentClient,
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function refuse(res: ServerResponse, status: number, text: string): void {
  // Drain nothing and keep nothing open: the request body is not read, the connection is closed.
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), connection: 'close' });
  res.end(text);
}
