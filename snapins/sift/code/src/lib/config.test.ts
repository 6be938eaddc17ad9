import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { ConfigError, FunctionEvent, readConfig } from './config';

const FIXTURES = join(__dirname, '..', '..', 'src', 'fixtures');

function fixture(name: string): FunctionEvent {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf-8'))[0];
}

test('the timer fixture holds everything a tick needs', () => {
  const config = readConfig(fixture('timer_tick.json'), ['part', 'owner']);
  assert.equal(config.feedUrl, 'http://127.0.0.1:8686');
  assert.equal(config.feedToken, 'replace-with-the-feed-token');
  assert.equal(config.devrevEndpoint, 'https://api.devrev.ai');
  assert.equal(config.snapInId, 'don:integration:dvrv-us-1:devo/0:snap_in/1b2c3d4e-sift');
});

test('the token is also found in resources.keyrings', () => {
  const event = fixture('timer_tick.json');
  event.input_data = { ...event.input_data, keyrings: null };
  assert.equal(readConfig(event).feedToken, 'replace-with-the-feed-token');
});

test('every missing setting is named in one message', () => {
  const event = fixture('watch_competitors_command.json');
  event.input_data = { global_values: { feed_url: 'http://feed' } };
  assert.throws(() => readConfig(event, ['part', 'owner']), (e: Error) => e instanceof ConfigError
    && e.message === 'the snap-in is not configured: set the sift_feed_token connection, the part input, the owner input');
  event.input_data = { global_values: { feed_url: 'feed.example' }, keyrings: { sift_feed_token: 't' } };
  assert.throws(() => readConfig(event), /is not an http\(s\) URL/);
});
