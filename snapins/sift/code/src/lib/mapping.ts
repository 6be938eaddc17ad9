/*
 * Sift ticket version -> DevRev `works.create` / `works.update` body. Pure: no I/O, unit-tested.
 *
 * A Sift ticket is served by the feed as stored (see connectors/feed.py): `id` (stable per issue),
 * `version`, `status`, `title`, `body` (markdown), `severity` (blocker|high|medium|low), `tags`
 * (names) and `devrev`, the flow's own works.create payload. Fields the flow adds later are ignored.
 *
 * The work's `external_ref` is the Sift id, namespaced: DevRev keeps an external_ref unique per
 * work type, so it is both the Sift-id -> work mapping (looked up with works.list) and the guard
 * against a second work for one ticket.
 */

import { createHash } from 'crypto';

import { publicSDK } from '@devrev/typescript-sdk';

/** Sift's primary label of competitor-feature tickets (flows/operators/feature_requests.py). */
export const FEATURE_LABEL = 'competitor_feature';

const TITLE_MAX = 256;
const BODY_MAX = 65_536;
const EXTERNAL_REF_MAX = 512;
const SEVERITIES = ['blocker', 'high', 'medium', 'low'];
const RESOLVED = ['resolved', 'closed'];
/** DevRev's ticket stage a resolved Sift ticket moves to. */
export const RESOLVED_STAGE = 'resolved';

export interface SiftTicket {
  id: string;
  version?: number;
  status?: string;
  title?: string;
  body?: string;
  severity?: string;
  tags?: string[];
  primary_label?: string;
  app_id?: string;
  devrev?: {
    title?: string;
    body?: string;
    severity?: string;
    tags?: string[];
    applies_to_part?: string;
    owned_by?: string[];
  };
  [field: string]: unknown;
}

/** A DevRev work as works.list / works.create answer it: only what the mapping compares. */
export interface WorkLike {
  id: string;
  display_id?: string;
  title?: string;
  body?: string;
  severity?: string;
  external_ref?: string;
  stage?: { name?: string };
  tags?: Array<{ tag: { id: string; name?: string } }>;
}

/** Where new works go: the snap-in's `part` and `owner` inputs. */
export interface Target {
  part: string;
  owner: string;
}

export class InvalidTicket extends Error {}

/** What the work should say for this ticket version. */
export interface Wanted {
  title: string;
  body: string;
  severity?: publicSDK.TicketSeverity;
  tagNames: string[];
  resolved: boolean;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The work's external_ref for a Sift id (a digest when the id is too long for DevRev). */
export function externalRef(siftId: string): string {
  const ref = `sift:${siftId}`;
  return ref.length <= EXTERNAL_REF_MAX ? ref : `sift:sha256:${createHash('sha256').update(siftId).digest('hex')}`;
}

export function wanted(ticket: SiftTicket): Wanted {
  if (!ticket || typeof ticket.id !== 'string' || !ticket.id) {
    throw new InvalidTicket('a ticket without an id');
  }
  const payload = ticket.devrev ?? {};
  const title = (payload.title ?? ticket.title ?? '').trim();
  if (!title) throw new InvalidTicket(`ticket ${JSON.stringify(ticket.id)} has no title`);
  const severity = payload.severity ?? ticket.severity;
  const tags = payload.tags ?? ticket.tags ?? [];
  return {
    title: clip(title, TITLE_MAX),
    body: clip(payload.body ?? ticket.body ?? '', BODY_MAX),
    severity: severity && SEVERITIES.includes(severity) ? (severity as publicSDK.TicketSeverity) : undefined,
    tagNames: [...new Set(tags.filter((t): t is string => typeof t === 'string' && t.trim() !== '').map((t) => t.trim()))].sort(),
    resolved: RESOLVED.includes(String(ticket.status ?? '').toLowerCase()),
  };
}

/** Tag ids for names; a name without an id is a bug in the caller (tags are resolved first). */
function ids(names: string[], tagIds: Map<string, string>): string[] {
  return names.map((name) => {
    const id = tagIds.get(name);
    if (!id) throw new Error(`tag ${JSON.stringify(name)} was not resolved to an id`);
    return id;
  });
}

/** The works.create body for a Sift ticket not yet in DevRev. */
export function createBody(ticket: SiftTicket, target: Target, tagIds: Map<string, string>): publicSDK.WorksCreateRequest {
  const w = wanted(ticket);
  const body: publicSDK.WorksCreateRequest = {
    type: publicSDK.WorkType.Ticket,
    title: w.title,
    body: w.body,
    applies_to_part: target.part,
    owned_by: [target.owner],
    external_ref: externalRef(ticket.id),
    tags: ids(w.tagNames, tagIds).map((id) => ({ id })),
  };
  if (w.severity) (body as publicSDK.WorksCreateRequestTicket).severity = w.severity;
  if (w.resolved) {
    body.stage = { name: RESOLVED_STAGE };
    body.stage_validation_options = [publicSDK.StageValidationOptionForCreate.AllowNonStart];
  }
  return body;
}

function sameText(a: string | undefined, b: string): boolean {
  const norm = (s: string) => s.replace(/\r\n?/g, '\n').replace(/[ \t]+$/gm, '').trim();
  return norm(a ?? '') === norm(b);
}

/** The tags Sift writes (flows/operators/tickets.py): these families, and the bare `regression`. */
const SIFT_FAMILIES = new Set(['label', 'severity', 'source', 'scale', 'version']);
const SIFT_BARE_TAGS = new Set(['regression']);

/** `severity:high` -> `severity`; a tag without a `family:` prefix has none. */
function family(name: string): string | null {
  const i = name.indexOf(':');
  return i > 0 ? name.slice(0, i) : null;
}

/**
 * The works.update body that brings `work` to this ticket version, or null when it already says it
 * (a re-delivered or unchanged version). Title, body, severity and Sift's tags follow the ticket;
 * a resolved ticket moves the work to the resolved stage, an open one never reopens it. Tags a person
 * added stay: only tags Sift writes (`severity:…`, `label:…`, `version:…`, `regression`, …) that this
 * version no longer carries are removed, even when it carries none of that family. Part and owner are
 * left as people set them.
 */
export function updateBody(ticket: SiftTicket, work: WorkLike, tagIds: Map<string, string>): publicSDK.WorksUpdateRequest | null {
  const w = wanted(ticket);
  const update: Record<string, unknown> = {};
  if ((work.title ?? '') !== w.title) update.title = w.title;
  if (!sameText(work.body, w.body)) update.body = w.body;
  if (w.severity && work.severity !== w.severity) update.severity = w.severity;
  if (w.resolved && work.stage?.name !== RESOLVED_STAGE) update.stage = { name: RESOLVED_STAGE };

  const want = new Set(ids(w.tagNames, tagIds));
  const has = work.tags ?? [];
  const add = [...want].filter((id) => !has.some((t) => t.tag.id === id));
  const sifts = (name: string) => SIFT_FAMILIES.has(family(name) ?? '') || SIFT_BARE_TAGS.has(name);
  const remove = has
    .filter((t) => !want.has(t.tag.id) && t.tag.name !== undefined && sifts(t.tag.name))
    .map((t) => t.tag.id);
  if (add.length || remove.length) {
    update.tags = {
      ...(add.length ? { add: add.map((id) => ({ id })) } : {}),
      ...(remove.length ? { remove: remove.map((id) => ({ id })) } : {}),
    };
  }
  if (!Object.keys(update).length) return null;
  return { id: work.id, type: publicSDK.WorkType.Ticket, ...update } as publicSDK.WorksUpdateRequest;
}
