/**
 * Line-by-line reading of a byte stream (a child process's stdout, stdin): the JSON-lines plumbing
 * of the demo and the multi-process tests.
 *
 * @module
 */

/**
 * Yields each complete `\n`-terminated line of `stream`, without the newline, as UTF-8 text. A
 * last line without its newline is not yielded (the writer died mid-line).
 *
 * @example
 * ```ts
 * import { lines } from "./_lines.ts";
 * const stream = new Blob(["one\ntwo\nthr"]).stream();
 * for await (const line of lines(stream)) console.log(line); // one, two
 * ```
 */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffered = "";
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      yield line;
    }
  }
}
