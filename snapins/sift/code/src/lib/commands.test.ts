import assert from 'node:assert/strict';
import { test } from 'node:test';

import { commandName, describeWatchList, parseHashtags } from './commands';
import type { WatchList } from './feed';

function list(fields: Partial<WatchList> = {}): WatchList {
  return { app_id: 'paynest', orgs: [], count: 0, truncated: false, updated_at: null, change: null, command_id: null,
    ...fields };
}

const CRED = { name: 'CRED', hashtags: ['#CRED'], aliases: ['cred'] };
const GOOGLE_PAY = { name: 'Google Pay', hashtags: ['#GooglePay', '#GPay'], aliases: ['gpay', 'tez'] };

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

test("the answer is the flow's list, with the last change it applied and when", () => {
  const watched = list({ orgs: [CRED, GOOGLE_PAY], count: 2, updated_at: '2026-10-01T08:00:00.000+00:00',
    change: 'watching CRED (#CRED; cred)' });
  assert.equal(describeWatchList(watched), 'Competitors Sift watches for paynest: CRED (#CRED), '
    + 'Google Pay (#GooglePay #GPay). Last change the flow applied: watching CRED (#CRED; cred) (2026-10-01 08:00 UTC).');
  assert.equal(describeWatchList(watched, 'Competitors Sift watches for paynest now').split(':')[0],
    'Competitors Sift watches for paynest now');
});

test('a list the feed cut says how many more orgs are watched; an org without hashtags says so', () => {
  const cut = list({ orgs: [{ name: 'Klar', hashtags: [], aliases: [] }], count: 201, truncated: true,
    updated_at: 'not a time', change: 'watching Klar' });
  assert.equal(describeWatchList(cut), 'Competitors Sift watches for paynest: Klar (no hashtag) and 200 more. '
    + 'Last change the flow applied: watching Klar (not a time).');
});

test('an empty list says whether the flow emptied it or never applied a command', () => {
  assert.equal(describeWatchList(list()), 'Sift has applied no watch-list command for paynest yet. '
    + 'Add some with /watch_competitors #GooglePay #PhonePe …');
  assert.equal(describeWatchList(list({ updated_at: '2026-10-02T09:30:00+05:30', change: 'stopped watching CRED' })),
    'Sift watches no competitors of paynest. Last change the flow applied: stopped watching CRED '
    + '(2026-10-02 04:00 UTC). Add some with /watch_competitors #GooglePay #PhonePe …');
});
