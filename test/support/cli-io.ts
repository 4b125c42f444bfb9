import { Writable } from "node:stream";

/** A stream that keeps what a command writes, for the `CommandIo` of an in-process run. */
export function sink(): { stream: Writable; text: () => string } {
  let text = "";
  const stream = new Writable({ write: (chunk, _enc, cb) => ((text += String(chunk)), cb()) });
  return { stream, text: () => text };
}
