/*
 * other_features: the competitor watch list, set from DevRev, and the tickets it leads to.
 *
 * - Commands /watch_competitors and /unwatch_competitors post the change to the feed's
 *   POST /v1/watchlist; /competitors reads GET /v1/watchlist, the list the flow applied. Each answers
 *   on the timeline of the object it was typed on, with the flow's list as it stands.
 * - On every timer tick, Sift's competitor-feature tickets (a competitor feature that enough reviews
 *   ask for) become DevRev tickets, the same way ticket_creator mirrors the others.
 */

import { CommandName, commandName, describeWatchList, parseHashtags, USAGE } from '../../lib/commands';
import { ConfigError, INPUT, readConfig } from '../../lib/config';
import type { FunctionEvent } from '../../lib/config';
import { DevRev } from '../../lib/devrev';
import { Feed, FeedError } from '../../lib/feed';
import { logFor } from '../../lib/log';
import type { Log } from '../../lib/log';
import { FEATURE_LABEL } from '../../lib/mapping';
import { tick } from '../../lib/timer';

const log = logFor('other_features');

export const run = async (events: FunctionEvent[]): Promise<void> => {
  for (const event of events) {
    try {
      const name = commandName(event.payload);
      if (name === null) {
        await tick(event, log, { cursorInput: INPUT.featureTicketCursor, primaryLabel: FEATURE_LABEL });
      } else {
        await command(event, name, log);
      }
    } catch (e) {
      log.error(`unexpected failure: ${e instanceof Error ? e.stack : String(e)}`);
    }
  }
};

async function command(event: FunctionEvent, name: CommandName | 'unknown', log: Log): Promise<void> {
  const where = String(event.payload?.source_id ?? event.context?.snap_in_id ?? '');
  let config;
  try {
    config = readConfig(event, ['appId']);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    log.error(e.message);
    await reply(event, where, `Sift: ${e.message}.`, log);
    return;
  }
  const devrev = new DevRev(config.devrevEndpoint, config.devrevToken);
  const answer = (text: string) => reply(event, where, text, log, devrev);
  if (name === 'unknown') {
    await answer(`Sift knows ${Object.values(USAGE).join(', ')}.`);
    return;
  }
  const feed = new Feed(config.feedUrl, config.feedToken);
  if (name === 'competitors') {
    try {
      await answer(describeWatchList(await feed.watchlist(config.appId)));
    } catch (e) {
      if (!(e instanceof FeedError)) throw e;
      log.error(`competitors: ${e.message}`);
      await answer(`Sift: could not read the watch list: ${e.message}.`);
    }
    return;
  }
  const { tags, bad } = parseHashtags(event.payload?.parameters);
  if (bad.length || !tags.length) {
    const why = bad.length ? `${bad.map((w) => JSON.stringify(w)).join(', ')} ${bad.length > 1 ? 'are' : 'is'} not a hashtag`
      : 'no hashtag given';
    await answer(`Sift: ${why}. Usage: ${USAGE[name]}`);
    return;
  }
  const action = name === 'watch_competitors' ? 'add' : 'remove';
  let accepted;
  try {
    accepted = await feed.watch(config.appId, action, tags);
  } catch (e) {
    if (!(e instanceof FeedError)) throw e;
    log.error(`${action} ${tags.join(' ')}: ${e.message}`);
    const retry = e.kind === 'refused' ? '' : ' Nothing was changed; send the command again.';
    await answer(`Sift: ${e.message}.${retry}`);
    return;
  }
  const orgs = accepted.map((c) => c.org).join(', ');
  log.info(`${action} ${orgs} for ${config.appId}: accepted by the feed`);
  // The flow's list as it stands: the command shows in it once the flow has read it.
  let current;
  try {
    current = describeWatchList(await feed.watchlist(config.appId), `Competitors Sift watches for ${config.appId} now`);
  } catch (e) {
    if (!(e instanceof FeedError)) throw e;
    log.error(`${action} ${orgs}: accepted, but the watch list could not be read: ${e.message}`);
    current = `The watch list could not be read (${e.message}); /competitors shows it.`;
  }
  await answer(`Sift will ${action === 'add' ? 'watch' : 'stop watching'} ${orgs}: the feed accepted the command, and `
    + `the flow applies it when it next reads the watch list. ${current}`);
}

/** The answer on the timeline; a DevRev that refuses it gets one log line instead. */
async function reply(event: FunctionEvent, object: string, text: string, log: Log, devrev?: DevRev): Promise<void> {
  const endpoint = event.execution_metadata?.devrev_endpoint;
  const token = event.context?.secrets?.service_account_token;
  if (!object || !(devrev || (endpoint && token))) {
    log.error(`cannot answer on a timeline (no object or DevRev endpoint in the event): ${text}`);
    return;
  }
  try {
    await (devrev ?? new DevRev(endpoint as string, token as string)).comment(object, text);
  } catch (e) {
    log.error(`the answer could not be posted (${e instanceof Error ? e.message : String(e)}): ${text}`);
  }
}

export default run;
