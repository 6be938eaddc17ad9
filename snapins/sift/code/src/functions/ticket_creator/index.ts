/*
 * ticket_creator: on every timer tick, mirror Sift's tickets into DevRev tickets.
 *
 * A new Sift ticket id becomes a work through works.create; a later version updates that work through
 * works.update. Competitor-feature tickets are left to other_features.
 */

import { INPUT } from '../../lib/config';
import type { FunctionEvent } from '../../lib/config';
import { logFor } from '../../lib/log';
import { FEATURE_LABEL } from '../../lib/mapping';
import { tick } from '../../lib/timer';

const log = logFor('ticket_creator');

export const run = async (events: FunctionEvent[]): Promise<void> => {
  for (const event of events) {
    try {
      await tick(event, log, {
        cursorInput: INPUT.ticketCursor,
        skip: (ticket) => ticket.primary_label === FEATURE_LABEL,
      });
    } catch (e) {
      log.error(`unexpected failure, the next tick tries again: ${e instanceof Error ? e.stack : String(e)}`);
    }
  }
};

export default run;
