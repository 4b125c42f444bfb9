/**
 * Progress of long command-line work (chain catch-up, contract deployment) on standard error:
 * a bar redrawn in place with carriage returns on a terminal, plain lines otherwise
 * (`catch-up: block 1200/5000 (24%)`), at most every few seconds, for logs and journald.
 */
import type { DeployProgress } from "../adapters/chain/evm/contracts.js";
import type { IndexerStatus } from "../domain/indexer/indexer.js";

/** Where progress goes: standard error, or a test's fake stream. */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** What is in progress, e.g. "catch-up". */
  label: string;
  /** What is counted, e.g. "block". */
  unit: string;
  /** Plain lines at most this often; the first and the last are always written. Default 5000. */
  lineIntervalMs?: number;
  /** Terminal redraws at most this often; the last is always drawn. Default 100. */
  redrawIntervalMs?: number;
  /** The clock (tests). */
  now?: () => number;
}

export interface Progress {
  /** `value` of `total` is done; `percent` overrides value/total (e.g. of a range not from 0). */
  update(value: number, total: number, extra?: { percent?: number; detail?: string }): void;
  /** Ends the display: the last state is shown, then `message` on a line of its own. */
  done(message?: string): void;
}

interface State {
  value: number;
  total: number;
  percent: number;
  detail?: string;
}

const BAR_WIDTH = 30;
const CLEAR_TO_END = "\x1b[K";

export function createProgress(stream: ProgressStream, opts: ProgressOptions): Progress {
  const now = opts.now ?? Date.now;
  const tty = stream.isTTY === true;
  const interval = tty ? (opts.redrawIntervalMs ?? 100) : (opts.lineIntervalMs ?? 5000);
  let last: State | undefined;
  let shown: State | undefined;
  let shownAt = -Infinity;
  let finished = false;

  const show = (s: State) => {
    shown = s;
    shownAt = now();
    stream.write(tty ? `\r${fit(barLine(opts, s), stream.columns)}${CLEAR_TO_END}` : `${plainLine(opts, s)}\n`);
  };

  return {
    update(value, total, extra = {}) {
      if (finished) return;
      const percent = clampPercent(extra.percent ?? (total > 0 ? (value / total) * 100 : 100));
      last = { value, total, percent, ...(extra.detail === undefined ? {} : { detail: extra.detail }) };
      if (shown === undefined || now() - shownAt >= interval) show(last);
    },
    done(message) {
      if (finished) return;
      finished = true;
      if (last && last !== shown) show(last);
      if (tty && shown) stream.write("\n");
      if (message) stream.write(`${opts.label}: ${message}\n`);
    },
  };
}

function clampPercent(p: number): number {
  return Math.max(0, Math.min(100, Number.isFinite(p) ? p : 0));
}

/** `catch-up: block 1200/5000 (24%)`, with the detail after it. */
export function plainLine(opts: Pick<ProgressOptions, "label" | "unit">, s: State): string {
  return `${opts.label}: ${opts.unit} ${s.value}/${s.total} (${Math.floor(s.percent)}%)${s.detail ? ` ${s.detail}` : ""}`;
}

/** `catch-up [#########---------]  24% block 1200/5000`, with the detail after it. */
export function barLine(opts: Pick<ProgressOptions, "label" | "unit">, s: State): string {
  const filled = Math.round((s.percent / 100) * BAR_WIDTH);
  const bar = "█".repeat(filled) + "░".repeat(BAR_WIDTH - filled);
  const pct = `${Math.floor(s.percent)}%`.padStart(4);
  return `${opts.label} ${bar} ${pct} ${opts.unit} ${s.value}/${s.total}${s.detail ? ` ${s.detail}` : ""}`;
}

/** A line longer than the terminal would wrap, and `\r` would then redraw only its end. */
function fit(line: string, columns: number | undefined): string {
  if (!columns || columns < 2) return line;
  const chars = [...line];
  return chars.length < columns ? line : chars.slice(0, columns - 1).join("");
}

// ------------------------------------------------------------------------------------------
// What the commands show

/** For `deployAll`'s `onProgress`: the contracts deployed so far, and the one being deployed. */
export function deployProgress(stream: ProgressStream, opts: Partial<ProgressOptions> = {}): (p: DeployProgress) => void {
  const bar = createProgress(stream, { label: "deploy", unit: "contract", lineIntervalMs: 0, ...opts });
  return (p) => {
    bar.update(p.deployed, p.total, p.next ? { detail: `(deploying ${p.next})` } : {});
    if (p.deployed >= p.total) bar.done();
  };
}

export interface CatchUpFollower {
  /** Reads the indexer's status once and shows it; false once there is nothing more to show. */
  poll(): boolean;
  stop(): void;
}

/**
 * Shows the indexer's initial catch-up by polling its status: a bar while it is catching up,
 * then `caught up at block N`. Stops by itself once caught up (or when the indexer needs no
 * catch-up at all); the timer never keeps the process alive.
 */
export function followCatchUp(
  indexer: { status(): IndexerStatus },
  stream: ProgressStream,
  opts: Partial<ProgressOptions> & { pollMs?: number; autoStart?: boolean } = {},
): CatchUpFollower {
  let bar: Progress | undefined;
  let timer: NodeJS.Timeout | undefined;
  let active = true;
  const stop = () => {
    active = false;
    if (timer) clearInterval(timer);
    timer = undefined;
  };
  const poll = (): boolean => {
    if (!active) return false;
    const s = indexer.status();
    if (s.catchingUp && s.progress) {
      bar ??= createProgress(stream, { label: "catch-up", unit: "block", ...opts });
      bar.update(s.progress.to, s.safeHead ?? s.progress.head, { percent: s.progress.percent });
      return true;
    }
    if (bar) {
      bar.update(s.indexedThrough, s.safeHead ?? s.indexedThrough, { percent: 100 });
      bar.done(`caught up at block ${s.indexedThrough}`);
      stop();
      return false;
    }
    // Never caught up from behind (a short chain is read in one range): nothing to show.
    if (s.lag === 0 || !s.running) {
      stop();
      return false;
    }
    return true;
  };
  if (opts.autoStart !== false) {
    timer = setInterval(poll, opts.pollMs ?? 250);
    timer.unref();
  }
  return {
    poll,
    stop() {
      if (active) bar?.done();
      stop();
    },
  };
}
