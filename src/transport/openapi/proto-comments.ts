import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { DescFile } from "@bufbuild/protobuf";

/** The contract's sources: the generated code embeds descriptors without their comments. */
const PROTO_ROOT = fileURLToPath(new URL("../../../proto/", import.meta.url));

/**
 * The leading comments of a .proto file's declarations, by fully qualified name:
 * `scr.v1.ReleaseService`, `scr.v1.ReleaseService.GetPincode`, `scr.v1.Release.release_data`,
 * `scr.v1.OperationState.OPERATION_STATE_PENDING`. A trailing `// comment` on a field or value
 * line is used when it has no leading one. Reads the protobuf text format as this contract
 * writes it (one declaration per line, `//` comments).
 */
export function parseProtoComments(source: string): Map<string, string> {
  const comments = new Map<string, string>();
  let pkg = "";
  /** Enclosing blocks: a name for messages, enums and services; "" for oneofs (their fields
   * belong to the message) and null for option and rpc bodies. */
  const scopes: { name: string | null; kind: string }[] = [];
  let pending: string[] = [];

  const named = () => scopes.filter((s) => s.name).map((s) => s.name);
  const qualify = (name: string) => [pkg, ...named(), name].filter(Boolean).join(".");
  const inside = () => [...scopes].reverse().find((s) => s.name !== "")?.kind;

  for (const raw of source.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("//")) {
      pending.push(line.replace(/^\/\/ ?/, ""));
      continue;
    }
    if (line === "") {
      pending = [];
      continue;
    }
    // Strings may hold braces and slashes (`get: "/releases/{address}"`): blank them out.
    const code = line.replace(/"(?:[^"\\]|\\.)*"/g, '""');
    const trailing = /\/\/ ?(.*)$/.exec(code)?.[1];
    const statement = code.replace(/\/\/.*$/, "").trim();
    const leading = pending.join("\n").trim();
    const comment = leading || trailing?.trim() || "";
    pending = [];

    let m: RegExpExecArray | null;
    let opened: { name: string | null; kind: string } | undefined;
    if ((m = /^package\s+([\w.]+)\s*;/.exec(statement))) {
      pkg = m[1]!;
    } else if ((m = /^(message|enum|service)\s+(\w+)\s*\{/.exec(statement))) {
      if (comment) comments.set(qualify(m[2]!), comment);
      opened = { name: m[2]!, kind: m[1]! };
    } else if ((m = /^oneof\s+\w+\s*\{/.exec(statement))) {
      opened = { name: "", kind: "oneof" };
    } else if ((m = /^rpc\s+(\w+)\s*\(/.exec(statement)) && inside() === "service") {
      if (comment) comments.set(qualify(m[1]!), comment);
    } else if (
      (m = /^(?:optional\s+|repeated\s+)?(?:map\s*<[^>]*>|[\w.]+)\s+(\w+)\s*=\s*\d+/.exec(statement)) &&
      inside() === "message"
    ) {
      if (comment) comments.set(qualify(m[1]!), comment);
    } else if ((m = /^(\w+)\s*=\s*-?\d+/.exec(statement)) && inside() === "enum") {
      if (comment) comments.set(qualify(m[1]!), comment);
    }
    for (const ch of statement) {
      if (ch === "{") {
        scopes.push(opened ?? { name: null, kind: "block" });
        opened = undefined;
      } else if (ch === "}") {
        scopes.pop();
      }
    }
  }
  return comments;
}

const cache = new Map<string, Map<string, string>>();

/** The comments of a descriptor's file, read from `proto/` beside the code; none if absent. */
export function commentsOf(file: DescFile): Map<string, string> {
  let comments = cache.get(file.name);
  if (!comments) {
    try {
      comments = parseProtoComments(readFileSync(`${PROTO_ROOT}${file.name}.proto`, "utf8"));
    } catch {
      comments = new Map();
    }
    cache.set(file.name, comments);
  }
  return comments;
}
