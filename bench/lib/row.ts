// Runs the two halves of a row (latency at concurrency 1, throughput at
// concurrency N) and turns a failure into a note instead of aborting the
// whole bench: one broken target must not hide the others' figures.
import type { LatencyResult, Row, ThroughputResult } from "./types.js";

export function message(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  // Keep the table readable; the full text goes to stderr.
  return text.split("\n")[0]!.slice(0, 200);
}

export async function measureRow(
  row: Row,
  latency: (() => Promise<LatencyResult>) | undefined,
  throughput: (() => Promise<ThroughputResult>) | undefined,
  progress: (line: string) => void,
): Promise<Row> {
  row.notes ??= [];
  if (latency) {
    progress(`  ${row.id}: latency`);
    try {
      row.latency = await latency();
      if (row.latency.errors > 0) row.notes.push(`${row.latency.errors} errors at c=1`);
    } catch (error) {
      console.error(`[bench] ${row.id} latency failed:`, error);
      row.notes.push(`latency failed: ${message(error)}`);
    }
  }
  if (throughput) {
    progress(`  ${row.id}: throughput`);
    try {
      row.throughput = await throughput();
      if (row.throughput.errors > 0) row.notes.push(`${row.throughput.errors} errors at c=${row.throughput.concurrency}`);
    } catch (error) {
      console.error(`[bench] ${row.id} throughput failed:`, error);
      row.notes.push(`throughput failed: ${message(error)}`);
    }
  }
  return row;
}

export function skippedRow(row: Omit<Row, "skipped">, reason: string): Row {
  return { ...row, skipped: reason };
}
