/**
 * The report's label doubts: the top of the last doubts computation, each with a thumbnail large enough to
 * judge by eye, the given and suggested labels, p(given), the expected precision at its rank when calibrated,
 * and what Review decided (kept as labelled, relabelled, or still open). The evidence a person needs to say
 * whether the models' doubts are real errors, in a file they can send; the pictures never leave their machine
 * otherwise.
 */
import type { FindingStatus } from '../../../shared/contract';
import type { DoubtRow, DoubtsInfo } from '../../../shared/contract-compare';
import type { Db } from '../db/open';
import { doubtsInfo, listDoubts } from '../doubts/store';
import { thumbnails, type Thumb } from './thumbnails';

/** How many doubts the report shows, and the side of their thumbnails. */
export const DOUBTS_SHOWN = { top: 20, side: 200 } as const;

export interface ReportDoubt extends DoubtRow {
  /** The finding's state in Review: open, resolved (relabelled as suggested) or dismissed (kept); null without a finding. */
  status: FindingStatus | null;
  thumb: Thumb | null;
}

export interface DoubtsSection {
  info: DoubtsInfo;
  /** Every doubt of the computation; `top` holds the first DOUBTS_SHOWN.top. */
  total: number;
  top: ReportDoubt[];
}

/**
 * The last computation's top doubts with their thumbnails, or null when no doubts were computed. `statusOf`
 * reads a finding's Review status from the findings the report has already listed.
 */
export async function gatherDoubts(db: Db, statusOf: (findingId: number) => FindingStatus | undefined): Promise<DoubtsSection | null> {
  const info = doubtsInfo(db);
  if (info === null) return null;
  const all = listDoubts(db);
  const top = all.slice(0, DOUBTS_SHOWN.top);
  const thumbs = await thumbnails(db, top.map((d) => d.imageId), 4, DOUBTS_SHOWN.side);
  return {
    info,
    total: all.length,
    top: top.map((d) => ({
      ...d,
      status: d.findingId === null ? null : (statusOf(d.findingId) ?? null),
      thumb: thumbs.get(d.imageId) ?? null,
    })),
  };
}

/** What Review made of a doubt, in words. */
export function decisionText(status: FindingStatus | null): string {
  if (status === 'resolved') return 'relabelled';
  if (status === 'dismissed') return 'kept as labelled';
  return status === 'open' ? 'not reviewed' : 'no finding';
}
