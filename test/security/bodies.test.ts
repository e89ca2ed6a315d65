import { gzipSync } from "node:zlib";
import { expect } from "chai";
import { ROUTES } from "../../shared/api/index.ts";
import type { RouteSpec } from "../../shared/api/route.ts";
import { registerUser } from "../helpers/api.ts";
import {
  createOwner,
  fillPath,
  label,
  type Owner,
  takesBody,
  type UserSession,
} from "../helpers/security-routes.ts";
import { rawRequest, type RawResponse, useSecurityStack } from "../helpers/security-stack.ts";

type ErrorBody = { error: { code: string } };

const KIB = 1024;
const MIB = 1024 * KIB;

/** `{"pad":"xxx…"}` of exactly `size` bytes. */
function paddedJson(size: number): string {
  const shell = '{"pad":""}';
  return `{"pad":"${"x".repeat(size - shell.length)}"}`;
}

function codeOf(response: RawResponse): string | undefined {
  try {
    return (JSON.parse(response.text) as ErrorBody).error?.code;
  } catch {
    return undefined;
  }
}

describe("Security: request bodies", function () {
  this.timeout(120_000);
  const sys = useSecurityStack();
  let owner: Owner;
  let admin: UserSession;

  before(async function () {
    this.timeout(60_000);
    owner = await createOwner(sys.api);
    admin = await registerUser(sys.api, { email: "admin@example.test" });
  });

  const tokenFor = (route: RouteSpec) =>
    route.access === "admin" ? admin.accessToken : route.access === "user" ? owner.session.accessToken : "";

  /** Sends bytes as they are, with the route's token when it needs one. */
  const send = (route: RouteSpec, body: string | Buffer, headers: Record<string, string> = {}) =>
    rawRequest(
      `${sys.stack.baseUrl}${fillPath(route, owner.ids)}`,
      route.method,
      {
        "content-type": "application/json",
        ...(route.access === "public" ? {} : { authorization: `Bearer ${tokenFor(route)}` }),
        ...headers,
      },
      body,
    );

  async function assertAlive(): Promise<void> {
    const health = await sys.api.get("/health");
    expect(health.status, "GET /health afterwards").to.equal(200);
    const me = await sys.api.get("/me", { token: owner.session.accessToken });
    expect(me.status, "a normal request afterwards").to.equal(200);
  }

  describe("size limits: 413 PAYLOAD_TOO_LARGE over 64 KiB (1 MiB on bulk routes), and not below", () => {
    for (const route of ROUTES.filter(takesBody)) {
      const limit = route.largeBody ? MIB : 64 * KIB;
      it(`${label(route)} (limit ${limit / KIB} KiB)`, async () => {
        const over = await send(route, paddedJson(limit + KIB));
        expect(over.status, over.text.slice(0, 200)).to.equal(413);
        expect(codeOf(over)).to.equal("PAYLOAD_TOO_LARGE");
        const under = await send(route, paddedJson(limit - KIB));
        expect(under.status, "just under the limit is read (and refused for its content)").to.not.equal(413);
        expect(under.status).to.be.below(500);
      });
    }

    it("a gzip bomb (20 MiB inflated from a few KiB) is refused, not inflated into memory", async () => {
      const bomb = gzipSync(Buffer.from(paddedJson(20 * MIB)));
      expect(bomb.length).to.be.below(64 * KIB);
      for (const route of ROUTES.filter(
        (r) => r.operationId === "updateMe" || r.operationId === "logActivities",
      )) {
        const response = await send(route, bomb, { "content-encoding": "gzip" });
        expect(response.status, `${label(route)}: ${response.text.slice(0, 200)}`).to.be.oneOf([413, 415]);
      }
      await assertAlive();
    });
  });

  describe("deep nesting (10,000 levels) is refused with 400/413/422 and the process stays up", () => {
    for (const route of ROUTES.filter((r) => takesBody(r) && r.body)) {
      it(label(route), async () => {
        const property = Object.keys((route.body?.properties ?? {}) as object)[0] ?? "x";
        const depth = 10_000;
        const bodies = [
          `{"${property}":${"[".repeat(depth)}${"]".repeat(depth)}}`,
          `{"${property}":${'{"a":'.repeat(depth)}1${"}".repeat(depth)}}`,
          `${"[".repeat(depth)}${"]".repeat(depth)}`,
        ];
        const wrong: string[] = [];
        for (const body of bodies) {
          const response = await send(route, body);
          if (![400, 413, 422].includes(response.status))
            wrong.push(`${body.slice(0, 30)}… → ${response.status} ${response.text.slice(0, 160)}`);
        }
        await assertAlive();
        expect(wrong, "answers other than 400/413/422").to.deep.equal([]);
      });
    }

    it("the deepest array that fits in the bulk limit (≈ 500,000 levels)", async () => {
      const route = ROUTES.find((r) => r.largeBody)!;
      const depth = Math.floor((MIB - 20) / 2);
      const response = await send(route, `{"items":${"[".repeat(depth)}${"]".repeat(depth)}}`);
      await assertAlive();
      expect(response.status, response.text.slice(0, 200)).to.be.oneOf([400, 413, 422]);
    });
  });

  describe("media types and encodings", () => {
    const updateMe = ROUTES.find((route) => route.operationId === "updateMe")!;
    const login = ROUTES.find((route) => route.operationId === "login")!;
    const displayName = async () =>
      (await sys.api.get<{ displayName: string }>("/me", { token: owner.session.accessToken })).body
        .displayName;

    it("a charset other than UTF-8 is 415 UNSUPPORTED_MEDIA_TYPE", async () => {
      const text = '{"displayName":"Zoë"}';
      for (const [charset, bytes] of [
        ["utf-16", Buffer.from(`\ufeff${text}`, "utf16le")],
        ["utf-16le", Buffer.from(text, "utf16le")],
        ["iso-8859-1", Buffer.from(text, "latin1")],
        ["latin1", Buffer.from(text, "latin1")],
        ['"windows-1252"', Buffer.from(text, "latin1")],
        ["us-ascii", Buffer.from('{"displayName":"Zoe"}')],
      ] as const) {
        const response = await send(updateMe, bytes, {
          "content-type": `application/json; charset=${charset}`,
        });
        expect(response.status, `charset=${charset}: ${response.text}`).to.equal(415);
        expect(codeOf(response)).to.equal("UNSUPPORTED_MEDIA_TYPE");
      }
    });

    it("a body that is not JSON is 415, whatever it claims to be", async () => {
      for (const contentType of [
        "text/plain",
        "text/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/jsonp",
        "application/json-patch",
      ]) {
        const response = await send(login, '{"email":"a@b.c","password":"x"}', {
          "content-type": contentType,
        });
        expect(response.status, `${contentType}: ${response.text}`).to.equal(415);
      }
      const untyped = await rawRequest(`${sys.stack.baseUrl}/auth/login`, "POST", {}, '{"email":"a@b.c"}');
      expect(untyped.status, `no Content-Type: ${untyped.text}`).to.equal(415);
    });

    it("UTF-16 bytes sent as UTF-8 JSON are 400 BAD_REQUEST", async () => {
      const response = await send(updateMe, Buffer.from('\ufeff{"displayName":"utf16"}', "utf16le"));
      expect(response.status, response.text).to.equal(400);
    });

    it("bytes that are not valid UTF-8 are refused (400 or 415), never stored with replacement characters", async () => {
      const before = await displayName();
      const invalid: [string, number[]][] = [
        ["0xFF 0xFE", [0xff, 0xfe]],
        ["a truncated sequence", [0xc3]],
        ["an overlong slash", [0xc0, 0xaf]],
        ["a lone surrogate", [0xed, 0xa0, 0x80]],
        ["a code point over U+10FFFF", [0xf4, 0x90, 0x80, 0x80]],
      ];
      const failures: string[] = [];
      for (const [what, bytes] of invalid) {
        for (const contentType of ["application/json", "application/json; charset=utf-8"]) {
          const body = Buffer.concat([
            Buffer.from('{"displayName":"ab'),
            Buffer.from(bytes),
            Buffer.from('"}'),
          ]);
          const response = await send(updateMe, body, { "content-type": contentType });
          if (response.status !== 400 && response.status !== 415)
            failures.push(`${what} (${contentType}) → ${response.status} ${response.text.slice(0, 120)}`);
        }
      }
      const after = await displayName();
      expect(failures, "invalid UTF-8 accepted").to.deep.equal([]);
      expect(after).to.equal(before);
    });
  });

  describe("a body where none is read", () => {
    const get = (path: string, body?: string) =>
      rawRequest(
        `${sys.stack.baseUrl}${path}`,
        "GET",
        { authorization: `Bearer ${owner.session.accessToken}`, "content-type": "application/json" },
        body,
      );

    it("a JSON body on GET is ignored: the same answer as without it", async () => {
      const baseline = await get("/goals");
      expect(baseline.status).to.equal(200);
      for (const body of ['{"status":"archived"}', '{"$where":"1"}', '{"userId":{"$ne":null}}', "[1,2,3]"]) {
        const response = await get("/goals", body);
        expect(response.status, body).to.equal(200);
        expect(JSON.parse(response.text), body).to.deep.equal(JSON.parse(baseline.text));
      }
    });

    it("a body on GET is ignored even when it is not JSON", async () => {
      const baseline = await get("/goals");
      for (const body of ["{{{", "not json at all", '{"a":'.repeat(10_000)]) {
        const response = await get("/goals", body);
        expect(response.status, `${body.slice(0, 20)} → ${response.text}`).to.equal(200);
        expect(response.text).to.equal(baseline.text);
      }
    });
  });
});
