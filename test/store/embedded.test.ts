// Local mode's embedded store answers the SDK on loopback and nobody else: not a web page, not another host name.
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedStore, type EmbeddedStore } from '../../lambda/store/embedded';
import { launchChromium } from '../local/browser';

let store: EmbeddedStore;
let port: number;
beforeAll(async () => {
  store = await startEmbeddedStore();
  port = Number(new URL(store.endpoint).port);
});
afterAll(async () => {
  await store?.close();
});

/** A DynamoDB API call as a client would send it, with the headers given (signature not checked by dynalite). */
function dynamoRequest(headers: Record<string, string>, method = 'POST'): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: '/',
        agent: false,
        headers: {
          host: `127.0.0.1:${port}`,
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'DynamoDB_20120810.ListTables',
          'x-amz-date': '20260101T000000Z',
          authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/local/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=00',
          ...headers,
        },
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
      },
    );
    request.on('error', reject);
    request.end(method === 'POST' ? '{}' : undefined);
  });
}

const corsHeaders = (headers: IncomingHttpHeaders) => Object.keys(headers).filter((name) => name.startsWith('access-control-'));

describe('the embedded store (local mode)', () => {
  it('answers the SDK and a plain client on its loopback names', async () => {
    await expect(store.client.send(new ListTablesCommand({}))).resolves.toMatchObject({ TableNames: [] });
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
      const answer = await dynamoRequest({ host });
      expect(answer.status, host).toBe(200);
    }
  });

  it('refuses what a web page sends (Origin, a CORS preflight, Sec-Fetch-*) with 403 and no CORS headers', async () => {
    const cases: [string, Record<string, string>, string][] = [
      ['cross-origin POST', { origin: 'https://evil.example' }, 'POST'],
      ['same-origin POST (rebinding)', { origin: `http://127.0.0.1:${port}` }, 'POST'],
      ['preflight', { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-amz-target' }, 'OPTIONS'],
      ['no-cors fetch', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'empty' }, 'POST'],
    ];
    for (const [what, headers, method] of cases) {
      const answer = await dynamoRequest(headers, method);
      expect(answer.status, what).toBe(403);
      expect(corsHeaders(answer.headers), what).toEqual([]);
      expect(answer.body, what).not.toContain('TableNames');
    }
  });

  it('refuses a request for another host name (DNS rebinding) with 421', async () => {
    const answer = await dynamoRequest({ host: `evil.example:${port}` });
    expect(answer.status).toBe(421);
    expect(corsHeaders(answer.headers)).toEqual([]);
    expect(answer.body).toBe(`the embedded store answers only to http://127.0.0.1:${port}\n`);
  });

  it('cannot be written by a page open in a real browser', async () => {
    const page = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>some page</title>'));
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', () => resolve()));
    const browser = await launchChromium();
    try {
      const tab = await browser.context.newPage();
      await tab.goto(`http://127.0.0.1:${(page.address() as AddressInfo).port}/`);
      const outcome = await tab.evaluate(async (endpoint) => {
        try {
          const response = await fetch(endpoint, {
            method: 'POST',
            headers: {
              'content-type': 'application/x-amz-json-1.0',
              'x-amz-target': 'DynamoDB_20120810.CreateTable',
              'x-amz-date': '20260101T000000Z',
              authorization: 'AWS4-HMAC-SHA256 Credential=a/20260101/local/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=00',
            },
            body: JSON.stringify({ TableName: 'planted', AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], BillingMode: 'PAY_PER_REQUEST' }),
          });
          return `answered ${response.status}`;
        } catch (error) {
          return `failed: ${String(error)}`;
        }
      }, store.endpoint);
      expect(outcome).toMatch(/^failed: TypeError/);
      expect((await store.client.send(new ListTablesCommand({}))).TableNames).toEqual([]);
    } finally {
      await browser.close();
      await new Promise<void>((resolve) => page.close(() => resolve()));
    }
  });

  it('still serves the SDK after refusing pages', async () => {
    await store.client.send(new CreateTableCommand({ TableName: 'kept', AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], BillingMode: 'PAY_PER_REQUEST' }));
    expect((await store.client.send(new ListTablesCommand({}))).TableNames).toEqual(['kept']);
  });
});
