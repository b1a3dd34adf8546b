// Reads JSON lines {"secret", "headers", "body"} on stdin and verifies each
// message with the Standard Webhooks reference implementation; prints
// "ok <webhook-id>" or "bad <webhook-id> <error>" per line.
import { Webhook } from "standardwebhooks";
import { createInterface } from "node:readline";

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  if (!line.trim()) continue;
  const m = JSON.parse(line);
  try {
    new Webhook(m.secret).verify(m.body, m.headers);
    console.log("ok " + m.headers["webhook-id"]);
  } catch (e) {
    console.log("bad " + m.headers["webhook-id"] + " " + e.message);
  }
}
