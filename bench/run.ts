/**
 * `npm run bench [-- name …]`: runs every `bench/*.bench.ts` (or the named ones) one after
 * another and prints one table. Exits 0 when ratios miss their goals (benchmarks inform, they
 * do not gate); non-zero only when a benchmark throws or a name matches no file.
 */
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { fmt, type BenchResult } from "./lib.js";

const dir = dirname(fileURLToPath(import.meta.url));
const SUFFIX = ".bench.ts";

function selectFiles(args: readonly string[]): string[] {
  const all = readdirSync(dir)
    .filter((f) => f.endsWith(SUFFIX))
    .sort();
  const names = args.filter((a) => !a.startsWith("-"));
  if (names.length === 0) return all;
  return names.map((n) => {
    const base = n.replace(/^bench\//, "").replace(/\.bench\.ts$/, "").replace(/\.ts$/, "");
    const file = base + SUFFIX;
    if (!all.includes(file)) {
      throw new Error(`no benchmark "${n}"; available: ${all.map((f) => f.slice(0, -SUFFIX.length)).join(", ")}`);
    }
    return file;
  });
}

function isResult(r: unknown): r is BenchResult {
  if (typeof r !== "object" || r === null) return false;
  const o = r as Record<string, unknown>;
  return (
    typeof o.name === "string" &&
    typeof o.unit === "string" &&
    ["value", "baseline", "ratio", "goal"].every((k) => typeof o[k] === "number") &&
    typeof o.higherIsBetter === "boolean"
  );
}

function printTable(rows: BenchResult[]): void {
  const header = ["benchmark", "value", "baseline", "unit", "ratio", "goal", "status"];
  const lines = rows.map((r) => [
    r.name,
    fmt(r.value),
    fmt(r.baseline),
    r.unit,
    r.ratio.toFixed(2),
    `≥ ${r.goal.toFixed(2)}`,
    r.ratio >= r.goal ? "ok" : "below goal",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? "").length)));
  const numeric = new Set([1, 2, 4]);
  const line = (cells: string[]) =>
    cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join("  ");
  console.log("");
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const l of lines) console.log(line(l));
  const noted = rows.filter((r) => r.notes);
  if (noted.length) {
    console.log("");
    for (const r of noted) console.log(`${r.name}: ${r.notes}`);
  }
  console.log("");
  console.log("ratio = value/baseline (baseline/value where lower is better); benchmarks never fail the run.");
}

async function main(): Promise<number> {
  let files: string[];
  try {
    files = selectFiles(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  const results: BenchResult[] = [];
  let failed = 0;
  for (const file of files) {
    const name = file.slice(0, -SUFFIX.length);
    console.log(`▶ ${name}`);
    const started = Date.now();
    try {
      const mod = (await import(pathToFileURL(join(dir, file)).href)) as { default?: unknown };
      if (typeof mod.default !== "function") throw new Error(`${file} has no default export function`);
      const out: unknown = await (mod.default as () => Promise<unknown>)();
      if (!Array.isArray(out) || !out.every(isResult)) throw new Error(`${file} did not return BenchResult[]`);
      results.push(...out);
      console.log(`✓ ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (err) {
      failed++;
      console.error(`✗ ${name} threw:`, err);
    }
  }
  if (results.length) printTable(results);
  if (failed) console.error(`${failed} benchmark(s) threw`);
  return failed ? 1 : 0;
}

// Exit explicitly: a benchmark that leaks a handle must not hang the runner.
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
