import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { yDocToIpynb } from '../ipynb/convert.ts';
import { syncPeers } from '../test-support/peers.ts';
import { insertCell } from './cells.ts';
import { getCellMetadata, setCellMetadata } from './metadata.ts';
import { createNotebookDoc, getCells } from './notebook-doc.ts';
import { markRunCost, markRunEnded, markRunStarted, readRunInfo } from './run-metadata.ts';

const T = Date.UTC(2026, 11, 3, 8, 0, 0);

describe("a cell's run timing and cost in its metadata", () => {
  it('records start, end, duration and cost, which a collaborator and the .ipynb see', () => {
    const doc = createNotebookDoc();
    const cell = insertCell(doc, { cell_type: 'code', source: 'x = 1' });
    setCellMetadata(cell, 'tags', ['keep']);
    markRunStarted(cell, T);
    expect(readRunInfo(getCellMetadata(cell))).toEqual({
      startedAt: T,
      endedAt: null,
      durationMs: null,
      costMicros: null,
      ratePerHourMicros: null,
    });
    markRunEnded(cell, T, T + 1534);
    expect(markRunCost(cell, T, { costMicros: 1702, ratePerHourMicros: 3_994_000 })).toBe(true);
    const peer = new Y.Doc();
    syncPeers(doc, peer);
    const seen = getCells(peer).get(0);
    expect(seen && readRunInfo(getCellMetadata(seen))).toEqual({
      startedAt: T,
      endedAt: T + 1534,
      durationMs: 1534,
      costMicros: 1702,
      ratePerHourMicros: 3_994_000,
    });
    const ipynb = yDocToIpynb(doc);
    expect(ipynb.cells[0]?.metadata).toEqual({
      tags: ['keep'],
      execution: {
        'shell.execute_reply.started': '2026-12-03T08:00:00.000Z',
        'shell.execute_reply': '2026-12-03T08:00:01.534Z',
        'kiln.duration_ms': 1534,
        'kiln.cost_micros': 1702,
        'kiln.rate_per_hour_micros': 3_994_000,
      },
    });
  });

  it('a late end or price of an earlier run never overwrites the next run', () => {
    const doc = createNotebookDoc();
    const cell = insertCell(doc, { cell_type: 'code', source: 'x = 1' });
    markRunStarted(cell, T);
    markRunEnded(cell, T, T + 100);
    markRunStarted(cell, T + 5000);
    markRunEnded(cell, T, T + 200);
    expect(markRunCost(cell, T, { costMicros: 5, ratePerHourMicros: 1 })).toBe(false);
    expect(readRunInfo(getCellMetadata(cell))).toMatchObject({
      startedAt: T + 5000,
      endedAt: null,
      costMicros: null,
    });
  });

  it('ignores malformed run metadata from an imported file', () => {
    expect(readRunInfo({})).toBeNull();
    expect(readRunInfo({ execution: 'yesterday' })).toBeNull();
    expect(readRunInfo({ execution: { 'shell.execute_reply.started': 'not a date' } })).toBeNull();
    expect(
      readRunInfo({
        execution: { 'shell.execute_reply.started': '2026-01-01T00:00:00Z', 'kiln.cost_micros': -4 },
      }),
    ).toMatchObject({ costMicros: null, durationMs: null });
  });
});
