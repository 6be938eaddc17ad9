/*
 * A timer tick of either function: configuration, one sync, the cursor saved, one log line.
 * Nothing escapes: a feed that is down, a refused token or a DevRev error is logged once and the
 * next tick tries again from the last saved cursor.
 */

import { ConfigError, readConfig, stateValue } from './config';
import type { FunctionEvent } from './config';
import { DevRev } from './devrev';
import { Feed } from './feed';
import type { Log } from './log';
import type { SiftTicket } from './mapping';
import { summary, syncTickets } from './sync';

export interface TickOptions {
  /** The hidden input holding this function's cursor. */
  cursorInput: string;
  primaryLabel?: string;
  skip?: (ticket: SiftTicket) => boolean;
}

export async function tick(event: FunctionEvent, log: Log, opts: TickOptions): Promise<void> {
  let config;
  try {
    config = readConfig(event, ['part', 'owner']);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    log.error(`${e.message}; nothing was done, the next tick tries again`);
    return;
  }
  const devrev = new DevRev(config.devrevEndpoint, config.devrevToken);
  const before = stateValue(config, opts.cursorInput);
  const result = await syncTickets({
    feed: new Feed(config.feedUrl, config.feedToken),
    devrev,
    target: { part: config.part, owner: config.owner },
    cursor: before || null,
    primaryLabel: opts.primaryLabel,
    skip: opts.skip,
    appId: config.appId || undefined,
  });
  let line = summary(result);
  if (result.cursorReset) line += '; the feed refused the saved cursor, so every ticket was read again';
  const after = result.cursor ?? '';
  if (after !== before) {
    try {
      if (!config.snapInId) throw new Error('the event names no snap-in (context.snap_in_id)');
      await devrev.saveInputs(config.snapInId, { ...config.inputs, [opts.cursorInput]: after });
    } catch (e) {
      log.error(`${line}; the cursor was not saved (${e instanceof Error ? e.message : String(e)}): `
        + 'the next tick reads from the previous cursor and finds the works already made');
      return;
    }
  }
  if (result.error) log.error(`${line}; stopped: ${result.error}`);
  else log.info(`${line}${result.more ? '; more to read on the next tick' : ''}`);
}
