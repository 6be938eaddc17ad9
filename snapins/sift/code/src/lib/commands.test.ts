import assert from 'node:assert/strict';
import { test } from 'node:test';

import { applyAccepted, commandName, describeWatched, parseHashtags, readWatched } from './commands';
import type { AcceptedCommand } from './feed';

function accepted(action: 'add' | 'remove', org: string, hashtags: string[]): AcceptedCommand {
  return { id: `wl-${org}`, action, app_id: 'paynest', org, hashtags, aliases: [] };
}

test('the command name comes from the command id; a timer event has none', () => {
  const id = 'don:integration:dvrv-us-1:devo/0:namespace/devrev:command/watch_competitors';
  assert.equal(commandName({ command_id: id }), 'watch_competitors');
  assert.equal(commandName({ command_id: id.replace('watch_competitors', 'competitors') }), 'competitors');
  assert.equal(commandName({ command_id: id.replace('watch_competitors', 'gh_issue') }), 'unknown');
  assert.equal(commandName({ metadata: { event_key: 'sift_poll' } }), null);
});

test('parameters split into hashtags, duplicates dropped, anything else reported', () => {
  assert.deepEqual(parseHashtags('#GooglePay  #PhonePe,#googlepay'), { tags: ['#GooglePay', '#PhonePe'], bad: [] });
  assert.deepEqual(parseHashtags('#CRED paytm #_x'), { tags: ['#CRED'], bad: ['paytm', '#_x'] });
  assert.deepEqual(parseHashtags(undefined), { tags: [], bad: [] });
});

test('the watch list follows the commands the feed accepted', () => {
  let watched = applyAccepted([], [accepted('add', 'Google Pay', ['#GooglePay']), accepted('add', 'CRED', ['#CRED'])]);
  assert.deepEqual(watched.map((o) => o.org), ['CRED', 'Google Pay']);
  watched = applyAccepted(readWatched(JSON.stringify(watched)), [accepted('remove', 'cred', ['#CRED'])]);
  assert.deepEqual(watched, [{ org: 'Google Pay', hashtags: ['#GooglePay'] }]);
  assert.equal(describeWatched('paynest', watched), 'Competitors of paynest watched from DevRev: Google Pay (#GooglePay).');
});

test('a damaged saved list reads as empty', () => {
  assert.deepEqual(readWatched('{not json'), []);
  assert.deepEqual(readWatched('{"org": "x"}'), []);
  assert.match(describeWatched('paynest', []), /^No competitors of paynest are watched/);
});
