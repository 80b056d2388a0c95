/**
 * A 20,000-image library through the contract's list methods: every page is bounded, cursors walk the
 * whole list exactly once in its order, and a page costs a fixed number of SQL statements however large
 * the library or the page (the grid: 2; the Review queue: 1; history: 1). The library is written straight
 * into SQLite (test/fixtures/scale.ts) so the test takes seconds, not the minutes decoding would.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Finding, HistoryEntry, ImageRow, MethodInput, MethodName, MethodOutput } from '../../../shared/contract';
import type { CoreContext } from '../../../electron/core/api/context';
import { dispatch } from '../../../electron/core/api/dispatch';
import { runAudit } from '../../../electron/core/dataset/audit';
import { JobRunner } from '../../../electron/core/jobs/runner';
import { openLibrary } from '../../../electron/core/library';
import { seedLibraryRows } from '../../fixtures/scale';
import { tempDir } from '../../helpers';

const N = 20_000;

test('a 20,000-image library: cursors walk every list once, in order, at a fixed number of queries per page', async (t) => {
  const dir = tempDir('paging', t);
  const seeding = openLibrary(join(dir, 'lib'), { create: true });
  seedLibraryRows(seeding.db, join(dir, 'files'), N, 7);
  const audit = runAudit(seeding.db);
  seeding.close();
  assert.ok(audit.findings > 300, `the seeded library has many findings (${audit.findings})`);

  let statements = 0;
  const lib = openLibrary(join(dir, 'lib'), { create: false, verbose: () => statements++ });
  t.after(() => lib.close());
  const ctx: CoreContext = { lib, jobs: new JobRunner(lib.db, () => {}), emit: () => {} };
  async function call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<{ out: MethodOutput<M>; queries: number }> {
    const before = statements;
    const out = (await dispatch(ctx, method, input)) as MethodOutput<M>;
    return { out, queries: statements - before };
  }

  // the grid: keyset pages of 1,000 over all 20,000 rows
  const seen: ImageRow[] = [];
  let cursor: string | undefined;
  do {
    const { out, queries } = await call('images.list', { filter: {}, limit: 1000, ...(cursor ? { cursor } : {}) });
    assert.equal(out.total, N);
    assert.ok(out.rows.length <= 1000);
    assert.equal(queries, 2, 'a count and a page, whatever the page');
    seen.push(...out.rows);
    cursor = out.nextCursor ?? undefined;
  } while (cursor);
  assert.equal(seen.length, N);
  assert.equal(new Set(seen.map((r) => r.id)).size, N, 'no row twice');
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i - 1]!.relPath <= seen[i]!.relPath, 'list order');
  // a jump by offset lands where the cursor walk says it should
  const jump = await call('images.list', { filter: {}, offset: 15_000, limit: 50 });
  assert.deepEqual(jump.out.rows.map((r) => r.id), seen.slice(15_000, 15_050).map((r) => r.id));
  assert.equal(jump.queries, 2);
  assert.ok(seen.some((r) => r.openFinding === true) && seen.some((r) => r.openFinding === false), 'each row says whether it has an open finding');

  // the Review queue: errors first, then by kind and id; one statement per page
  const queue: Finding[] = [];
  let fc: string | undefined;
  let total = -1;
  do {
    const { out, queries } = await call('findings.list', { status: 'open', limit: 200, ...(fc ? { cursor: fc } : {}) });
    assert.equal(queries, 1, 'one query per page of the queue, not one per finding');
    total = out.total;
    queue.push(...out.findings);
    fc = out.nextCursor ?? undefined;
  } while (fc);
  assert.equal(queue.length, total);
  assert.equal(new Set(queue.map((f) => f.id)).size, total);
  // the kind menu's counts come with the page (no extra query) and add up to the queue; a kind filter pages alike
  const first = await call('findings.list', { status: 'open', limit: 1 });
  const byKind = new Map<string, number>();
  for (const f of queue) byKind.set(f.kind, (byKind.get(f.kind) ?? 0) + 1);
  assert.deepEqual(new Map(first.out.kinds.map((k) => [k.kind, k.count])), byKind);
  const someKind = first.out.kinds[first.out.kinds.length - 1]!;
  const ofKind = await call('findings.list', { status: 'open', kind: someKind.kind, limit: 1000 });
  assert.equal(ofKind.queries, 1);
  assert.equal(ofKind.out.total, someKind.count);
  assert.deepEqual(ofKind.out.kinds, first.out.kinds, 'the kind filter leaves the other kinds counted');
  const rank = { error: 0, warning: 1, info: 2 } as const;
  for (let i = 1; i < queue.length; i++) {
    const a = queue[i - 1]!;
    const b = queue[i]!;
    const cmp = rank[a.severity] - rank[b.severity] || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0) || a.id - b.id;
    assert.ok(cmp < 0, `queue order at ${i}: ${a.severity}/${a.kind}/${a.id} before ${b.severity}/${b.kind}/${b.id}`);
  }
  for (const f of queue) {
    assert.ok(f.imageIds.length <= 1000);
    assert.ok(f.imageCount >= f.imageIds.length);
  }
  // a finding's evidence, however many images it names: one call, two statements
  const biggest = [...queue].sort((a, b) => b.imageCount - a.imageCount)[0]!;
  const evidence = await call('images.list', { filter: { findingId: biggest.id }, limit: 12 });
  assert.equal(evidence.out.total, biggest.imageCount);
  assert.equal(evidence.queries, 2);

  // history: newest first, in pages, one statement each
  const events: HistoryEntry[] = [];
  let hc: string | undefined;
  do {
    const { out, queries } = await call('history.list', { limit: 5000, ...(hc ? { cursor: hc } : {}) });
    assert.equal(queries, 1);
    events.push(...out.entries);
    hc = out.nextCursor ?? undefined;
  } while (hc);
  assert.equal(events.length, N, 'one import event per labelled image');
  for (let i = 1; i < events.length; i++) assert.ok(events[i - 1]!.id > events[i]!.id);

  await assert.rejects(call('findings.list', { cursor: 'not-a-cursor' }), /not a cursor from findings\.list/);
  await assert.rejects(call('images.list', { filter: {}, limit: 100_000 }), /limit/);
});
