/**
 * The checkpoint of a bulk re-run: an append-only NDJSON file, a header naming the selection
 * (with the instant it was fixed at) and one line per payload handled, written and flushed
 * before the next one starts. Killed at any point, the same command resumes: payloads
 * already handled are not sent again, and the selection is the one of the first start.
 */
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { CliError } from './io';

export interface Selection {
  readonly deployment: string;
  readonly states: string;
  readonly workflow: string | null;
  readonly collection: string | null;
  /** resolved at the first start */
  readonly since: string | null;
  /** resolved at the first start (now, unless given): failures recorded later are not part of this re-run */
  readonly until: string;
}

export type Outcome = 'sent' | 'skipped-succeeded' | 'skipped-active' | 'skipped-no-input' | 'skipped-id-changed' | 'failed';

export interface Entry {
  readonly payloadId: string;
  readonly failedRun: string;
  readonly outcome: Outcome;
  /** the new run (sent), or what stopped it */
  readonly detail: string;
  readonly at: string;
}

export class Checkpoint {
  private constructor(
    readonly file: string,
    readonly selection: Selection,
    readonly done: Map<string, Entry>,
    readonly resumed: boolean,
  ) {}

  /** Opens the file when it exists (the selection must match `key`), else starts one with `selection`. */
  static open(file: string, key: string, selection: () => Selection): Checkpoint {
    if (!existsSync(file)) {
      const s = selection();
      writeFileSync(file, `${JSON.stringify({ kind: 'swoop-rerun', key, selection: s, startedAt: new Date().toISOString() })}\n`);
      return new Checkpoint(file, s, new Map(), false);
    }
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
    let header: { kind?: string; key?: string; selection?: Selection };
    try {
      header = JSON.parse(lines[0] ?? '');
    } catch {
      throw new CliError(`${file}: not a rerun checkpoint; remove it or pass another --checkpoint`);
    }
    if (header.kind !== 'swoop-rerun' || !header.selection) throw new CliError(`${file}: not a rerun checkpoint; remove it or pass another --checkpoint`);
    if (header.key !== key) {
      throw new CliError(`${file}: the checkpoint of another selection (${describe(header.selection)}); rerun with those options to resume it, or remove it`);
    }
    const done = new Map<string, Entry>();
    for (const line of lines.slice(1)) {
      try {
        const e = JSON.parse(line) as Entry;
        // A payload whose send failed is tried again on resume.
        if (typeof e.payloadId === 'string') {
          if (e.outcome === 'failed') done.delete(e.payloadId);
          else done.set(e.payloadId, e);
        }
      } catch {
        // a line cut by a kill: that payload is handled again (the claim refuses a second run while the first is active)
      }
    }
    return new Checkpoint(file, header.selection, done, true);
  }

  record(entry: Omit<Entry, 'at'>): Entry {
    const e = { ...entry, at: new Date().toISOString() };
    appendFileSync(this.file, `${JSON.stringify(e)}\n`);
    this.done.set(e.payloadId, e);
    return e;
  }

  remove(): void {
    rmSync(this.file, { force: true });
  }
}

export function describe(s: Selection): string {
  return [`state ${s.states}`, s.workflow && `workflow ${s.workflow}`, s.collection && `collection ${s.collection}`, s.since && `since ${s.since}`, `until ${s.until}`].filter(Boolean).join(', ');
}
