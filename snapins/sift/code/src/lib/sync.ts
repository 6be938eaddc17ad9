/*
 * One tick of mirroring: read Sift tickets from the feed after a cursor, and bring DevRev to them.
 *
 * Idempotent by external_ref: before writing a page, the works carrying its tickets' external refs
 * are looked up with works.list, so a ticket already in DevRev is updated (or left alone when it
 * already says the same) and never created twice, whatever the cursor: the same cursor again, an
 * older one, or none at all. When works.create fails, the ref is looked up once more: a work that is
 * there after all (another run made it, or the answer was lost) is updated instead.
 *
 * The cursor only moves past a page once every ticket of it is written. A failure stops the tick with
 * one message; the next tick reads that page again (its finished tickets are then unchanged).
 */

import { DevRev, DevRevError } from './devrev';
import { Feed, FeedError } from './feed';
import { createBody, externalRef, InvalidTicket, SiftTicket, Target, updateBody, wanted, WorkLike } from './mapping';

export interface SyncOptions {
  feed: Feed;
  devrev: DevRev;
  target: Target;
  /** The saved cursor; null or '' reads from the beginning. */
  cursor: string | null;
  /** Only tickets with this primary label (the feed filters). */
  primaryLabel?: string;
  /** Tickets to leave to another function (filtered here). */
  skip?: (ticket: SiftTicket) => boolean;
  appId?: string;
  pageSize?: number;
  /** Pages per tick, so one tick stays short; the rest waits for the next tick. */
  maxPages?: number;
}

export interface SyncResult {
  cursor: string | null;
  read: number;
  created: number;
  updated: number;
  unchanged: number;
  invalid: number;
  /** The one reason the tick stopped early, if it did; the next tick retries from `cursor`. */
  error?: string;
  /** The feed has more after `cursor` (maxPages was reached). */
  more: boolean;
  /** The saved cursor was refused and the tick started again from the beginning. */
  cursorReset: boolean;
}

export async function syncTickets(opts: SyncOptions): Promise<SyncResult> {
  const pageSize = opts.pageSize ?? 50;
  const maxPages = opts.maxPages ?? 20;
  const result: SyncResult = {
    cursor: opts.cursor || null, read: 0, created: 0, updated: 0, unchanged: 0, invalid: 0, more: false, cursorReset: false,
  };
  const written = new Map<string, WorkLike>(); // this tick's works by ref: list results may lag a create

  for (let pages = 0; pages < maxPages; pages += 1) {
    let page;
    try {
      page = await opts.feed.tickets({
        since: result.cursor, limit: pageSize, primaryLabel: opts.primaryLabel, appId: opts.appId,
      });
    } catch (e) {
      if (e instanceof FeedError && e.kind === 'bad_cursor' && !result.cursorReset) {
        result.cursor = null; // the mapping lives in DevRev: reading everything again duplicates nothing
        result.cursorReset = true;
        continue;
      }
      result.error = e instanceof Error ? e.message : String(e);
      return result;
    }
    const tickets: SiftTicket[] = [];
    for (const ticket of page.items) {
      if (opts.skip?.(ticket)) continue;
      try {
        wanted(ticket);
        tickets.push(ticket);
      } catch (e) {
        if (!(e instanceof InvalidTicket)) throw e;
        result.invalid += 1; // can never be written: counted, not retried
      }
    }
    result.read += tickets.length;
    const failure = await writePage(opts, tickets, written, result);
    if (failure) {
      result.error = failure;
      return result;
    }
    result.cursor = page.next || result.cursor;
    result.more = page.has_more;
    if (!page.has_more) break;
  }
  return result;
}

/** Write one page; the message of the first failure, or undefined when every ticket is in DevRev. */
async function writePage(opts: SyncOptions, tickets: SiftTicket[], written: Map<string, WorkLike>,
  result: SyncResult): Promise<string | undefined> {
  if (!tickets.length) return undefined;
  let existing: Map<string, WorkLike>;
  let tagIds: Map<string, string>;
  try {
    existing = await opts.devrev.ticketsByExternalRef(tickets.map((t) => externalRef(t.id)));
    tagIds = await opts.devrev.tagIds(tickets.flatMap((t) => wanted(t).tagNames));
  } catch (e) {
    return `${message(e)}; the page is read again on the next tick`;
  }
  let failed = 0;
  let first = '';
  for (const ticket of tickets) {
    const ref = externalRef(ticket.id);
    try {
      const work = written.get(ref) ?? existing.get(ref);
      written.set(ref, work ? await update(opts.devrev, ticket, work, tagIds, result)
        : await create(opts, ticket, ref, tagIds, result));
    } catch (e) {
      failed += 1;
      first ||= `Sift ticket ${ticket.id}: ${message(e)}`;
    }
  }
  if (!failed) return undefined;
  return `${failed} of ${tickets.length} tickets not written (${first}); they are retried on the next tick`;
}

async function update(devrev: DevRev, ticket: SiftTicket, work: WorkLike, tagIds: Map<string, string>,
  result: SyncResult): Promise<WorkLike> {
  const body = updateBody(ticket, work, tagIds);
  if (!body) {
    result.unchanged += 1;
    return work;
  }
  const updated = await devrev.updateWork(body);
  result.updated += 1;
  return updated;
}

async function create(opts: SyncOptions, ticket: SiftTicket, ref: string, tagIds: Map<string, string>,
  result: SyncResult): Promise<WorkLike> {
  try {
    const work = await opts.devrev.createWork(createBody(ticket, opts.target, tagIds));
    result.created += 1;
    return work;
  } catch (e) {
    // Refused because the ref exists (another run got there first), or made before the answer was
    // lost: either way the work is there, so it is updated instead.
    if (!(e instanceof DevRevError)) throw e;
    const work = (await opts.devrev.ticketsByExternalRef([ref])).get(ref);
    if (!work) throw e;
    return update(opts.devrev, ticket, work, tagIds, result);
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** One summary line for the log. */
export function summary(r: SyncResult): string {
  const parts = [`${r.read} tickets read`, `${r.created} created`, `${r.updated} updated`, `${r.unchanged} unchanged`];
  if (r.invalid) parts.push(`${r.invalid} invalid (no id or title) skipped`);
  return parts.join(', ');
}
