/*
 * The Sift snap-in feed (`python -m connectors.feed`): tickets and the watch list the flow applied
 * out, watch-list commands in.
 * The token goes only in the `Authorization: Bearer` header. Every failure becomes a `FeedError`
 * whose message says what happened and what to do, without the token.
 */

import axios, { AxiosInstance } from 'axios';

import type { SiftTicket } from './mapping';

export type FeedErrorKind = 'unreachable' | 'unauthorized' | 'bad_cursor' | 'refused' | 'unavailable';

export class FeedError extends Error {
  constructor(message: string, readonly kind: FeedErrorKind, readonly status?: number) {
    super(message);
  }
}

export interface Page<T> {
  items: T[];
  next: string | null;
  has_more: boolean;
}

/** One command as the feed accepted it (one per org). */
export interface AcceptedCommand {
  id: string;
  action: 'add' | 'remove';
  app_id: string;
  org: string;
  hashtags: string[];
  aliases: string[];
}

/** A competitor the flow watches, as GET /v1/watchlist lists it. */
export interface WatchedOrg {
  name: string;
  hashtags: string[];
  aliases: string[];
}

/** GET /v1/watchlist: the app's watch list as the flow last applied it. */
export interface WatchList {
  app_id: string;
  orgs: WatchedOrg[];
  /** All the orgs watched; more than `orgs.length` when the feed cut the list (`truncated`). */
  count: number;
  truncated: boolean;
  /** When the flow applied the app's last command; null when it has applied none. */
  updated_at: string | null;
  /** What that command changed, e.g. `watching CRED (#CRED)`. */
  change: string | null;
  command_id: string | null;
}

export interface TicketQuery {
  since?: string | null;
  limit: number;
  primaryLabel?: string;
  appId?: string;
}

const TIMEOUT_MS = 15_000;

function detail(data: unknown): string {
  if (data && typeof data === 'object' && 'detail' in data) {
    const d = (data as { detail: unknown }).detail;
    return typeof d === 'string' ? d : JSON.stringify(d);
  }
  return typeof data === 'string' ? data.slice(0, 200) : '';
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

export class Feed {
  private readonly http: AxiosInstance;

  constructor(readonly baseUrl: string, token: string) {
    this.http = axios.create({
      baseURL: baseUrl.replace(/\/+$/, ''),
      timeout: TIMEOUT_MS,
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
      // The feed's own statuses are answers, not exceptions: `fail` turns them into FeedErrors.
      validateStatus: () => true,
    });
  }

  /** One page of tickets updated after `since` (none: from the beginning), oldest first. */
  async tickets(query: TicketQuery): Promise<Page<SiftTicket>> {
    const params: Record<string, string | number> = { limit: query.limit };
    if (query.since) params.since = query.since;
    if (query.primaryLabel) params.primary_label = query.primaryLabel;
    if (query.appId) params.app_id = query.appId;
    const response = await this.send('GET /v1/tickets', () => this.http.get('/v1/tickets', { params }));
    if (response.status === 400 && query.since) {
      throw new FeedError(`the feed refused the saved cursor (400: ${detail(response.data)})`, 'bad_cursor', 400);
    }
    this.fail('GET /v1/tickets', response.status, response.data);
    const page = response.data as Page<SiftTicket>;
    if (!page || !Array.isArray(page.items)) {
      throw new FeedError('GET /v1/tickets answered 200 without an items list', 'unavailable', response.status);
    }
    return page;
  }

  /** Send a snap-in text command (`add #A #B` / `remove #A`) for `appId`; the feed answers what it enqueued. */
  async watch(appId: string, action: 'add' | 'remove', hashtags: string[]): Promise<AcceptedCommand[]> {
    const body = { app_id: appId, command: `${action} ${hashtags.join(' ')}` };
    const response = await this.send('POST /v1/watchlist', () => this.http.post('/v1/watchlist', body));
    if (response.status === 422) {
      throw new FeedError(`the feed refused the command: ${detail(response.data)}`, 'refused', 422);
    }
    this.fail('POST /v1/watchlist', response.status, response.data);
    return (response.data as { commands?: AcceptedCommand[] }).commands ?? [];
  }

  /** The competitors the flow watches for `appId`, as it last applied the watch-list commands. */
  async watchlist(appId: string): Promise<WatchList> {
    const params = { app_id: appId };
    const response = await this.send('GET /v1/watchlist', () => this.http.get('/v1/watchlist', { params }));
    if (response.status === 422) {
      throw new FeedError(`the feed does not know the app ${JSON.stringify(appId)} (422: ${detail(response.data)}): `
        + 'check the app_id input', 'refused', 422);
    }
    this.fail('GET /v1/watchlist', response.status, response.data);
    const list = response.data as WatchList;
    if (!list || !Array.isArray(list.orgs)) {
      throw new FeedError('GET /v1/watchlist answered 200 without an orgs list', 'unavailable', response.status);
    }
    const orgs = list.orgs.filter((o) => o && typeof o.name === 'string').map((o) => ({
      name: o.name, hashtags: strings(o.hashtags), aliases: strings(o.aliases),
    }));
    return {
      app_id: typeof list.app_id === 'string' ? list.app_id : appId,
      orgs,
      count: typeof list.count === 'number' && list.count >= orgs.length ? list.count : orgs.length,
      truncated: list.truncated === true,
      updated_at: typeof list.updated_at === 'string' ? list.updated_at : null,
      change: typeof list.change === 'string' ? list.change : null,
      command_id: typeof list.command_id === 'string' ? list.command_id : null,
    };
  }

  private async send<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      const code = axios.isAxiosError(e) ? e.code ?? e.message : String(e);
      throw new FeedError(`could not reach the Sift feed at ${this.baseUrl} (${what}: ${code})`, 'unreachable');
    }
  }

  private fail(what: string, status: number, data: unknown): void {
    if (status >= 200 && status < 300) return;
    if (status === 401) {
      throw new FeedError(`the Sift feed refused the token (401 on ${what}): check the sift_feed_token connection`,
        'unauthorized', status);
    }
    const why = detail(data);
    throw new FeedError(`the Sift feed answered ${status} on ${what}${why ? `: ${why}` : ''}`,
      status === 429 || status >= 500 ? 'unavailable' : 'refused', status);
  }
}
