import assert from 'node:assert/strict';
import { test } from 'node:test';

import { createBody, externalRef, InvalidTicket, SiftTicket, updateBody, WorkLike } from './mapping';

const TARGET = { part: 'don:core:dvrv-us-1:devo/0:product/1', owner: 'don:identity:dvrv-us-1:devo/0:devu/1' };
const TAGS = new Map([
  ['label:payments', 'TAG-1'], ['severity:high', 'TAG-2'], ['severity:blocker', 'TAG-3'], ['source:sift', 'TAG-4'],
  ['version:4.12.0', 'TAG-5'],
]);

/** A ticket version as the feed serves it (tickets.py builds `devrev` from the same fields). */
function ticket(version: number, fields: Partial<SiftTicket> = {}): SiftTicket {
  const title = '[PayNest] Payments: payment failed';
  const body = `**12 reviews** about *payment failed*\n\n_Raised by Sift; version ${version}._`;
  const tags = ['label:payments', 'severity:high', 'source:sift', 'version:4.12.0'];
  return {
    id: 'tkt-8c0466b4f80e3a52', app_id: 'paynest', version, status: 'open', primary_label: 'payments',
    title, body, severity: 'high', tags, updated_at: '2026-10-05T10:00:00+00:00',
    devrev: { type: 'ticket', title, body, severity: 'high', tags } as SiftTicket['devrev'],
    ...fields,
  };
}

/** The work DevRev holds after creating `t` (what works.list answers). */
function workFor(t: SiftTicket, extra: Partial<WorkLike> = {}): WorkLike {
  return {
    id: 'don:core:dvrv-us-1:devo/0:ticket/7', display_id: 'TKT-7', title: t.devrev?.title, body: t.devrev?.body,
    severity: t.devrev?.severity, external_ref: externalRef(t.id), stage: { name: 'queued' },
    tags: (t.devrev?.tags ?? []).map((name) => ({ tag: { id: TAGS.get(name) as string, name } })),
    ...extra,
  };
}

test('a new Sift ticket becomes a works.create body for a DevRev ticket', () => {
  const t = ticket(1);
  assert.deepEqual(createBody(t, TARGET, TAGS), {
    type: 'ticket',
    title: '[PayNest] Payments: payment failed',
    body: t.body,
    applies_to_part: TARGET.part,
    owned_by: [TARGET.owner],
    external_ref: 'sift:tkt-8c0466b4f80e3a52',
    tags: [{ id: 'TAG-1' }, { id: 'TAG-2' }, { id: 'TAG-4' }, { id: 'TAG-5' }],
    severity: 'high',
  });
});

test('the part and owner inputs win over the flow payload; a resolved ticket is created resolved', () => {
  const t = ticket(1, { status: 'resolved' });
  t.devrev = { ...t.devrev, applies_to_part: 'PROD-9', owned_by: ['DEVU-9'] };
  const body = createBody(t, TARGET, TAGS) as unknown as Record<string, unknown>;
  assert.equal(body.applies_to_part, TARGET.part);
  assert.deepEqual(body.owned_by, [TARGET.owner]);
  assert.deepEqual(body.stage, { name: 'resolved' });
  assert.deepEqual(body.stage_validation_options, ['allow_non_start']);
});

test('without a devrev payload the top-level fields are used; long text is clipped to DevRev limits', () => {
  const t = ticket(1, { devrev: undefined, title: 'x'.repeat(300), body: 'y'.repeat(70_000), severity: 'urgent' });
  const body = createBody(t, TARGET, TAGS) as unknown as Record<string, string>;
  assert.equal(body.title.length, 256);
  assert.ok(body.title.endsWith('…'));
  assert.equal(body.body.length, 65_536);
  assert.equal(body.severity, undefined, 'a severity DevRev does not know is left out');
});

test('a ticket without an id or a title is refused, not sent', () => {
  assert.throws(() => createBody({ id: '' } as SiftTicket, TARGET, TAGS), InvalidTicket);
  assert.throws(() => createBody(ticket(1, { devrev: undefined, title: ' ' }), TARGET, TAGS), InvalidTicket);
});

test('the external ref is the namespaced Sift id, or a digest when that is too long', () => {
  assert.equal(externalRef('paynest:tkt-1'), 'sift:paynest:tkt-1');
  const long = externalRef('t'.repeat(600));
  assert.match(long, /^sift:sha256:[0-9a-f]{64}$/);
  assert.equal(externalRef('t'.repeat(600)), long);
});

test('the same version again updates nothing', () => {
  const t = ticket(3);
  assert.equal(updateBody(t, workFor(t), TAGS), null);
  const crlf = workFor(t, { body: `${t.body?.replace(/\n/g, '\r\n')}  ` });
  assert.equal(updateBody(t, crlf, TAGS), null, 'line endings and trailing blanks are not a change');
});

test('a later version becomes a works.update of title, body, severity and Sift tags only', () => {
  const v1 = ticket(1);
  const v2 = ticket(2, { title: '[PayNest] Payments: money deducted twice', severity: 'blocker' });
  v2.devrev = { ...v2.devrev, title: v2.title, severity: 'blocker',
    tags: ['label:payments', 'severity:blocker', 'source:sift', 'version:4.12.0'] };
  const work = workFor(v1);
  work.tags?.push({ tag: { id: 'TAG-99', name: 'escalated' } }); // a person's tag
  assert.deepEqual(updateBody(v2, work, TAGS), {
    id: work.id,
    type: 'ticket',
    title: '[PayNest] Payments: money deducted twice',
    body: v2.body,
    severity: 'blocker',
    tags: { add: [{ id: 'TAG-3' }], remove: [{ id: 'TAG-2' }] },
  });
});

test('a version that carries no app version any more drops the work\'s version tag, not a person\'s tag', () => {
  const v1 = ticket(1);
  const v2 = ticket(2);
  v2.devrev = { ...v2.devrev, tags: ['label:payments', 'severity:high', 'source:sift'] };
  const work = workFor(v1);
  work.tags?.push({ tag: { id: 'TAG-99', name: 'escalated' } }); // a person's tag
  assert.deepEqual(updateBody(v2, work, TAGS)?.tags, { remove: [{ id: 'TAG-5' }] });
});

test('a resolved version moves the work to the resolved stage once; an open one never reopens it', () => {
  const open = ticket(4);
  const resolved = ticket(4, { status: 'resolved' });
  assert.deepEqual(updateBody(resolved, workFor(open), TAGS), {
    id: 'don:core:dvrv-us-1:devo/0:ticket/7', type: 'ticket', stage: { name: 'resolved' },
  });
  assert.equal(updateBody(resolved, workFor(open, { stage: { name: 'resolved' } }), TAGS), null);
  assert.equal(updateBody(open, workFor(open, { stage: { name: 'resolved' } }), TAGS), null);
});

test('an unresolved tag name is a bug, not a silent drop', () => {
  assert.throws(() => createBody(ticket(1), TARGET, new Map()), /was not resolved/);
});
