/**
 * Raw reproduction, run by wrtc_raw_test.ts as `deno test` of this file: a test that read
 * `pc.sctp` and ends right after closing the connection. With `SETTLE=1` it waits one macrotask
 * after closing.
 *
 * @module
 */
import { rawPair } from "./_wrtc_pair.ts";

Deno.test("read sctp, close, end", async () => {
  const { a, b } = await rawPair();
  if (!(a.sctp.maxMessageSize > 0)) throw new Error("no sctp transport");
  a.close();
  b.close();
  if (Deno.env.get("SETTLE") === "1") await new Promise((r) => setTimeout(r, 0));
});
