/**
 * Baseline: the least a Node HTTP server can do per request, a fixed JSON answer from node:http. PORT from
 * the environment; prints "ready" once it listens.
 */
import http from "node:http";

const BODY = JSON.stringify({ ok: true });

http
  .createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      response.writeHead(200, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(BODY),
      });
      response.end(BODY);
    });
  })
  .listen(Number(process.env.PORT), "127.0.0.1", () => console.log("ready"));
