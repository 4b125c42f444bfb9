#!/usr/bin/env node
// The `scr` command. TypeScript runs through tsx, resolved from this package, so the
// command works from any folder.
import { register } from "tsx/esm/api";

register();
const { main } = await import("./main.ts");
process.exitCode = await main(process.argv.slice(2));
