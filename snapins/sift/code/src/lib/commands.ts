/*
 * other_features' slash commands: parsing and the replies.
 *
 *   /watch_competitors #GooglePay #PhonePe   -> POST /v1/watchlist {"command": "add #GooglePay #PhonePe"}
 *   /unwatch_competitors #PhonePe            -> POST /v1/watchlist {"command": "remove #PhonePe"}
 *   /competitors                             -> GET /v1/watchlist?app_id=: what the flow watches now
 *
 * "What is watched" is always the flow's own list, as the feed serves it: the orgs the flow applied,
 * with the names and hashtags the flow resolved them to, whoever sent the commands. A command just
 * sent shows there once the flow has read it.
 */

import type { WatchList } from './feed';

export const COMMANDS = ['watch_competitors', 'unwatch_competitors', 'competitors'] as const;
export type CommandName = typeof COMMANDS[number];

/** Hashtags the way Sift's parser takes them: `#` then a letter or digit, then word characters. */
const HASHTAG = /^#[\p{L}\p{N}][\p{L}\p{N}_]{0,79}$/u;

/** The command's name from the event (`…:command/watch_competitors`), or null for a timer event. */
export function commandName(payload: Record<string, unknown> | undefined): CommandName | null | 'unknown' {
  const id = payload?.command_id;
  if (typeof id !== 'string') return null;
  const name = id.slice(id.lastIndexOf('/') + 1);
  return (COMMANDS as readonly string[]).includes(name) ? (name as CommandName) : 'unknown';
}

export function parseHashtags(parameters: unknown): { tags: string[]; bad: string[] } {
  const words = typeof parameters === 'string' ? parameters.split(/[\s,]+/).filter(Boolean) : [];
  const tags: string[] = [];
  const bad: string[] = [];
  for (const word of words) {
    if (!HASHTAG.test(word)) bad.push(word);
    else if (!tags.some((t) => t.toLowerCase() === word.toLowerCase())) tags.push(word);
  }
  return { tags, bad };
}

/** `2026-10-01T08:00:00.000+00:00` -> `2026-10-01 08:00 UTC`; anything else as it came. */
function when(at: string): string {
  const t = new Date(at);
  return Number.isNaN(t.getTime()) ? at : `${t.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * The flow's watch list in one paragraph: the orgs with their hashtags, then the last change the
 * flow applied and when. `heading` names the list (`Competitors Sift watches for paynest`).
 */
export function describeWatchList(list: WatchList, heading = `Competitors Sift watches for ${list.app_id}`): string {
  const last = list.updated_at
    ? ` Last change the flow applied: ${list.change ?? 'unknown'} (${when(list.updated_at)}).`
    : '';
  if (!list.orgs.length && !list.count) {
    const none = list.updated_at ? `Sift watches no competitors of ${list.app_id}.`
      : `Sift has applied no watch-list command for ${list.app_id} yet.`;
    return `${none}${last} Add some with ${USAGE.watch_competitors}`;
  }
  const orgs = list.orgs.map((o) => `${o.name} (${o.hashtags.join(' ') || 'no hashtag'})`).join(', ');
  const more = list.count > list.orgs.length ? ` and ${list.count - list.orgs.length} more` : '';
  return `${heading}: ${orgs}${more}.${last}`;
}

export const USAGE: Record<CommandName, string> = {
  watch_competitors: '/watch_competitors #GooglePay #PhonePe …',
  unwatch_competitors: '/unwatch_competitors #PhonePe …',
  competitors: '/competitors',
};
