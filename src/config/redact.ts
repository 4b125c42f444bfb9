/**
 * A configured URL (a node's JSON-RPC URL, a callback URL) fit to print or to return from
 * GET /status: user, password and query (often an API key) left out.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    const path = u.pathname === "/" ? "" : u.pathname;
    return `${u.protocol}//${u.host}${path}${u.search ? "?…" : ""}`;
  } catch {
    return "(an invalid URL)";
  }
}
