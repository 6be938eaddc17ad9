/*
 * other_features' slash commands: parsing, the watch list the snap-in has set, and the replies.
 *
 *   /watch_competitors #GooglePay #PhonePe   -> POST /v1/watchlist {"command": "add #GooglePay #PhonePe"}
 *   /unwatch_competitors #PhonePe            -> POST /v1/watchlist {"command": "remove #PhonePe"}
 *   /competitors                             -> what is watched now
 *
 * The feed accepts commands but does not serve the watch list, so "what is watched now" is the list
 * this snap-in has set, kept in its hidden `watched_competitors` input and updated from each answer
 * of the feed (one accepted command per org).
 */

import type { AcceptedCommand } from './feed';

export const COMMANDS = ['watch_competitors', 'unwatch_competitors', 'competitors'] as const;
export type CommandName = typeof COMMANDS[number];

/** Hashtags the way Sift's parser takes them: `#` then a letter or digit, then word characters. */
const HASHTAG = /^#[\p{L}\p{N}][\p{L}\p{N}_]{0,79}$/u;

export interface WatchedOrg {
  org: string;
  hashtags: string[];
}

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

/** The saved list; a damaged value counts as empty. */
export function readWatched(value: unknown): WatchedOrg[] {
  if (typeof value !== 'string' || !value.trim()) return [];
  try {
    const parsed = JSON.parse(value);
    return Array.isArray(parsed)
      ? parsed.filter((o) => o && typeof o.org === 'string').map((o) => ({
        org: o.org, hashtags: Array.isArray(o.hashtags) ? o.hashtags.filter((h: unknown) => typeof h === 'string') : [],
      }))
      : [];
  } catch {
    return [];
  }
}

/** The list after the feed accepted these commands (orgs keyed by name, case-insensitively). */
export function applyAccepted(watched: WatchedOrg[], accepted: AcceptedCommand[]): WatchedOrg[] {
  const byKey = new Map(watched.map((o) => [o.org.toLowerCase(), o]));
  for (const c of accepted) {
    if (c.action === 'add') byKey.set(c.org.toLowerCase(), { org: c.org, hashtags: [...c.hashtags] });
    else byKey.delete(c.org.toLowerCase());
  }
  return [...byKey.values()].sort((a, b) => a.org.localeCompare(b.org));
}

export function describeWatched(appId: string, watched: WatchedOrg[]): string {
  if (!watched.length) {
    return `No competitors of ${appId} are watched from DevRev. Add some with /watch_competitors #GooglePay #PhonePe`;
  }
  const list = watched.map((o) => `${o.org} (${o.hashtags.join(' ') || 'no hashtag'})`).join(', ');
  return `Competitors of ${appId} watched from DevRev: ${list}.`;
}

export const USAGE: Record<CommandName, string> = {
  watch_competitors: '/watch_competitors #GooglePay #PhonePe …',
  unwatch_competitors: '/unwatch_competitors #PhonePe …',
  competitors: '/competitors',
};
