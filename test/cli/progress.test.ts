import { describe, expect, it } from "vitest";
import type { IndexerStatus } from "../../src/domain/indexer/indexer.js";
import { createProgress, deployProgress, followCatchUp, type ProgressStream } from "../../src/cli/progress.js";

/** A fake standard error: what was written, as a terminal or not. */
function fakeStream(tty: boolean, columns?: number): ProgressStream & { text: string } {
  const stream = {
    text: "",
    isTTY: tty,
    columns,
    write(chunk: string) {
      stream.text += chunk;
      return true;
    },
  };
  return stream;
}

/** A clock the test moves by hand. */
function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("progress, not on a terminal", () => {
  it("writes plain lines, at most one per interval, the first and the last always", () => {
    const out = fakeStream(false);
    const c = clock();
    const bar = createProgress(out, { label: "catch-up", unit: "block", lineIntervalMs: 5000, now: c.now });
    bar.update(1200, 5000);
    c.advance(1000);
    bar.update(2000, 5000); // within the interval: not written
    c.advance(4000);
    bar.update(2500, 5000);
    c.advance(10);
    bar.update(5000, 5000);
    bar.done("caught up at block 5000");
    expect(out.text).toBe(
      "catch-up: block 1200/5000 (24%)\n" +
        "catch-up: block 2500/5000 (50%)\n" +
        "catch-up: block 5000/5000 (100%)\n" +
        "catch-up: caught up at block 5000\n",
    );
    expect(out.text).not.toContain("\r");
    expect(out.text).not.toContain("\x1b");
  });

  it("a given percentage wins over value/total; a detail follows", () => {
    const out = fakeStream(false);
    const bar = createProgress(out, { label: "catch-up", unit: "block", now: clock().now });
    bar.update(3000, 5000, { percent: 33.3, detail: "(range 2000)" });
    bar.done();
    expect(out.text).toBe("catch-up: block 3000/5000 (33%) (range 2000)\n");
  });

  it("deployment: one line per contract", () => {
    const out = fakeStream(false);
    const report = deployProgress(out);
    report({ deployed: 0, total: 3, next: "OrganizationRegistry" });
    report({ deployed: 1, total: 3, next: "Connections" });
    report({ deployed: 2, total: 3, next: "ReleaseRegistry" });
    report({ deployed: 3, total: 3 });
    expect(out.text.split("\n")).toEqual([
      "deploy: contract 0/3 (0%) (deploying OrganizationRegistry)",
      "deploy: contract 1/3 (33%) (deploying Connections)",
      "deploy: contract 2/3 (66%) (deploying ReleaseRegistry)",
      "deploy: contract 3/3 (100%)",
      "",
    ]);
  });
});

describe("progress on a terminal", () => {
  it("redraws one line with carriage returns and ends it with a new line", () => {
    const out = fakeStream(true, 120);
    const c = clock();
    const bar = createProgress(out, { label: "catch-up", unit: "block", redrawIntervalMs: 100, now: c.now });
    bar.update(0, 4000);
    c.advance(100);
    bar.update(1000, 4000);
    c.advance(50);
    bar.update(2000, 4000); // too soon: drawn at the end
    bar.done("caught up at block 2000");

    const frames = out.text.split("\r").slice(1);
    expect(out.text.startsWith("\r")).toBe(true);
    expect(frames).toHaveLength(3);
    expect(frames[0]).toBe(`catch-up ${"░".repeat(30)}   0% block 0/4000\x1b[K`);
    expect(frames[1]).toBe(`catch-up ${"█".repeat(8)}${"░".repeat(22)}  25% block 1000/4000\x1b[K`);
    expect(frames[2]).toBe(`catch-up ${"█".repeat(15)}${"░".repeat(15)}  50% block 2000/4000\x1b[K\ncatch-up: caught up at block 2000\n`);
    // No new line until the end: the bar stays on one line.
    expect(out.text.indexOf("\n")).toBe(out.text.length - "\ncatch-up: caught up at block 2000\n".length);
  });

  it("cuts the line to the terminal's width, so that it never wraps", () => {
    const out = fakeStream(true, 40);
    const bar = createProgress(out, { label: "catch-up", unit: "block", now: clock().now });
    bar.update(1, 2);
    const frame = out.text.slice(1, -"\x1b[K".length);
    expect([...frame]).toHaveLength(39);
  });
});

describe("following the indexer's catch-up", () => {
  const status = (s: Partial<IndexerStatus>): IndexerStatus => ({
    name: "scr",
    head: null,
    safeHead: null,
    confirmations: 0,
    indexedThrough: -1,
    lag: null,
    catchingUp: false,
    progress: null,
    rangeSize: 2000,
    reorgs: 0,
    running: true,
    lastError: null,
    ...s,
  });

  it("shows each polled position, then 'caught up', and stops", () => {
    const sequence = [
      status({}), // before the first poll of the chain
      status({ head: 5000, safeHead: 5000, indexedThrough: 1999, lag: 3001, catchingUp: true, progress: { from: 0, to: 1999, head: 5000, percent: 40 } }),
      status({ head: 5000, safeHead: 5000, indexedThrough: 3999, lag: 1001, catchingUp: true, progress: { from: 2000, to: 3999, head: 5000, percent: 80 } }),
      status({ head: 5001, safeHead: 5001, indexedThrough: 5001, lag: 0, catchingUp: false, progress: { from: 4000, to: 5001, head: 5001, percent: 100 } }),
    ];
    let i = 0;
    const out = fakeStream(false);
    const follower = followCatchUp({ status: () => sequence[Math.min(i++, sequence.length - 1)]! }, out, { autoStart: false, lineIntervalMs: 0 });
    expect(follower.poll()).toBe(true);
    expect(out.text).toBe("");
    expect(follower.poll()).toBe(true);
    expect(follower.poll()).toBe(true);
    expect(follower.poll()).toBe(false);
    expect(follower.poll()).toBe(false);
    expect(out.text).toBe(
      "catch-up: block 1999/5000 (40%)\n" +
        "catch-up: block 3999/5000 (80%)\n" +
        "catch-up: block 5001/5001 (100%)\n" +
        "catch-up: caught up at block 5001\n",
    );
  });

  it("shows nothing when there is nothing to catch up", () => {
    const out = fakeStream(true);
    const follower = followCatchUp({ status: () => status({ head: 10, safeHead: 10, indexedThrough: 10, lag: 0 }) }, out, { autoStart: false });
    expect(follower.poll()).toBe(false);
    follower.stop();
    expect(out.text).toBe("");
  });
});
