import assert from 'node:assert/strict';
import { createServer, IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';

import { Feed, FeedError } from './feed';

const TOKEN = 'feed-test-token-0123456789';

interface Seen {
  method?: string;
  url?: string;
  authorization?: string;
}

/** A one-route stand-in of the feed: answers every request with `status` and `body`, and records it. */
async function withFeed(status: number, body: unknown, run: (feed: Feed, seen: Seen[]) => Promise<void>) {
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization });
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    await run(new Feed(`http://127.0.0.1:${port}/`, TOKEN), seen);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

const ANSWER = {
  app_id: 'pay nest', count: 2, truncated: false, updated_at: '2026-10-01T08:00:00.000+00:00',
  change: 'watching CRED (#CRED)', command_id: 'wl-0123456789abcdef0123',
  orgs: [{ name: 'CRED', hashtags: ['#CRED'], aliases: ['cred'] }, { name: 'PhonePe', hashtags: ['#PhonePe'], aliases: [] }],
};

test('watchlist() asks GET /v1/watchlist for the app with the token in the header only', async () => {
  await withFeed(200, ANSWER, async (feed, seen) => {
    assert.deepEqual(await feed.watchlist('pay nest'), ANSWER);
    assert.deepEqual(seen, [{ method: 'GET', url: '/v1/watchlist?app_id=pay+nest', authorization: `Bearer ${TOKEN}` }]);
  });
});

test('watchlist() keeps only the fields it knows, with their types', async () => {
  const odd = { orgs: [{ name: 'CRED', hashtags: ['#CRED', 7], aliases: null, rank: 1 }, { hashtags: ['#X'] }, null] };
  await withFeed(200, odd, async (feed) => {
    assert.deepEqual(await feed.watchlist('paynest'), {
      app_id: 'paynest', orgs: [{ name: 'CRED', hashtags: ['#CRED'], aliases: [] }], count: 1, truncated: false,
      updated_at: null, change: null, command_id: null,
    });
  });
  await withFeed(200, { items: [] }, async (feed) => {
    await assert.rejects(feed.watchlist('paynest'), (e: FeedError) => e.kind === 'unavailable'
      && e.message === 'GET /v1/watchlist answered 200 without an orgs list');
  });
});

test("watchlist() turns the feed's refusals into FeedErrors that say what to do", async () => {
  const unknown = { detail: 'unknown app_id: pass the id of an app in the app metadata' };
  await withFeed(422, unknown, async (feed) => {
    await assert.rejects(feed.watchlist('nopay'), (e: FeedError) => e.kind === 'refused' && e.status === 422
      && e.message === 'the feed does not know the app "nopay" (422: unknown app_id: pass the id of an app in the app '
        + 'metadata): check the app_id input');
  });
  await withFeed(401, { detail: 'missing or wrong bearer token' }, async (feed) => {
    await assert.rejects(feed.watchlist('paynest'), (e: FeedError) => e.kind === 'unauthorized'
      && e.message === 'the Sift feed refused the token (401 on GET /v1/watchlist): check the sift_feed_token connection');
  });
  await withFeed(503, { detail: 'store unavailable, retry later' }, async (feed) => {
    await assert.rejects(feed.watchlist('paynest'), (e: FeedError) => e.kind === 'unavailable'
      && e.message === 'the Sift feed answered 503 on GET /v1/watchlist: store unavailable, retry later');
  });
});

test('watchlist() on a feed that is down is an unreachable FeedError', async () => {
  let port = 0;
  await withFeed(200, ANSWER, async (feed) => {
    port = Number(new URL(feed.baseUrl).port);
  });
  await assert.rejects(new Feed(`http://127.0.0.1:${port}`, TOKEN).watchlist('paynest'), (e: FeedError) =>
    e.kind === 'unreachable' && e.message.startsWith(`could not reach the Sift feed at http://127.0.0.1:${port} `
      + '(GET /v1/watchlist: ') && !e.message.includes(TOKEN));
});
