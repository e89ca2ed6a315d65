import { expect } from "chai";
import { ROUTES } from "../../shared/api/index.ts";
import type { RouteSpec } from "../../shared/api/route.ts";
import type { JsonSchema } from "../../shared/validation.ts";
import {
  createOwner,
  fillPath,
  label,
  type Owner,
  sampleBody,
  takesBody,
} from "../helpers/security-routes.ts";
import { rawRequest, useSecurityStack } from "../helpers/security-stack.ts";

type ErrorBody = { error: { code: string; status: number } };

const OPERATORS: unknown[] = [
  { $ne: null },
  { $gt: "" },
  { $where: "1" },
  { $regex: ".*" },
  { $in: [] },
  { $exists: true },
  { $expr: { $eq: [1, 1] } },
];
const TOP_LEVEL_OPERATORS: Record<string, unknown>[] = [
  { $where: "1" },
  { $or: [{}] },
  { $set: { role: "admin" } },
  { $ne: null },
];
/** Query strings that qs turns into operator objects, arrays or prototype keys. */
const QUERY_OPERATORS = (name: string) => [
  `${name}[$ne]=x`,
  `${name}[%24ne]=x`,
  `${name}[$gt]=`,
  `${name}[$where]=1`,
  `${name}[$regex]=.*`,
  `${name}[$in][]=a`,
  `${name}[]=a&${name}[]=b`,
  `${name}[0]=a`,
];
const QUERY_PROTOTYPE_KEYS = (name: string) => [
  "__proto__[polluted]=yes",
  "__proto__.polluted=yes",
  "constructor[prototype][polluted]=yes",
  `${name}[__proto__][polluted]=yes`,
  `${name}[constructor][prototype][polluted]=yes`,
];

const bodyRoutes = ROUTES.filter((route) => takesBody(route) && route.body);
const queryRoutes = ROUTES.filter((route) => route.query);

function propertiesOf(schema: JsonSchema | undefined): string[] {
  return Object.keys((schema?.properties ?? {}) as Record<string, unknown>);
}

/** JSON text of an object with extra members written verbatim (so `__proto__` stays an own key). */
function jsonWith(value: Record<string, unknown>, ...members: string[]): string {
  const own = Object.entries(value).map(([key, item]) => `${JSON.stringify(key)}:${JSON.stringify(item)}`);
  return `{${[...members, ...own].join(",")}}`;
}

function assertNotPolluted(): void {
  const probe = {} as Record<string, unknown>;
  expect(probe.polluted, "Object.prototype.polluted").to.equal(undefined);
  expect(Object.prototype.hasOwnProperty.call(Object.prototype, "polluted")).to.equal(false);
  expect((Array.prototype as unknown as Record<string, unknown>).polluted).to.equal(undefined);
}

function withoutVolatile(text: string): unknown {
  try {
    const value = JSON.parse(text) as Record<string, unknown>;
    if (value && typeof value === "object") delete value.exportedAt;
    return value;
  } catch {
    return text;
  }
}

describe("Security: operator injection and prototype pollution", function () {
  this.timeout(120_000);
  const sys = useSecurityStack();
  let owner: Owner;

  before(async function () {
    this.timeout(60_000);
    owner = await createOwner(sys.api);
  });

  /** As the owner, on the owner's own resources: only the injected value can make it fail. */
  const send = (route: RouteSpec, rawBody: string) =>
    sys.api.request<ErrorBody>(route.method, fillPath(route, owner.ids), {
      rawBody,
      contentType: "application/json",
      token: owner.session.accessToken,
    });

  /** Sends each body; returns the ones answered with anything but 400/422. */
  async function accepted(route: RouteSpec, bodies: [string, string][]): Promise<string[]> {
    const wrong: string[] = [];
    for (const [what, text] of bodies) {
      const response = await send(route, text);
      if (response.status !== 400 && response.status !== 422)
        wrong.push(`${what} → ${response.status} ${response.text.slice(0, 120)}`);
    }
    return wrong;
  }

  describe("bodies: an operator object in any member, or a top-level operator key, is refused (400/422)", () => {
    for (const route of bodyRoutes) {
      it(label(route), async () => {
        const sample = sampleBody(route, owner.context);
        const bodies: [string, string][] = [];
        for (const property of propertiesOf(route.body)) {
          for (const operator of OPERATORS) {
            bodies.push([
              `${property}: ${JSON.stringify(operator)}`,
              JSON.stringify({ ...sample, [property]: operator }),
            ]);
          }
          // One level down: inside an object member, or inside the items of an array member.
          const value = sample[property];
          const inner = Array.isArray(value) ? value[0] : value;
          if (inner && typeof inner === "object") {
            for (const key of Object.keys(inner as object)) {
              const poisoned = { ...(inner as object), [key]: { $ne: null } };
              bodies.push([
                `${property}.${key}: {"$ne":null}`,
                JSON.stringify({ ...sample, [property]: Array.isArray(value) ? [poisoned] : poisoned }),
              ]);
            }
          }
        }
        for (const operator of TOP_LEVEL_OPERATORS) {
          bodies.push([JSON.stringify(operator), JSON.stringify({ ...sample, ...operator })]);
        }
        expect(await accepted(route, bodies), "operator bodies not refused").to.deep.equal([]);
        assertNotPolluted();
      });
    }
  });

  describe("bodies: a __proto__, constructor or prototype member is an unknown property (400/422), as anywhere else", () => {
    for (const route of bodyRoutes) {
      it(label(route), async () => {
        const sample = sampleBody(route, owner.context);
        const bodies: [string, string][] = [
          '"__proto__":{"polluted":"yes"}',
          '"__proto__":{"role":"admin","isAdmin":true}',
          '"__proto__":null',
          '"constructor":{"prototype":{"polluted":"yes"}}',
          '"prototype":{"polluted":"yes"}',
        ].map((member) => [member, jsonWith(sample, member)]);
        for (const property of propertiesOf(route.body)) {
          const value = sample[property];
          const inner = Array.isArray(value) ? value[0] : value;
          if (!inner || typeof inner !== "object") continue;
          const protoInside = jsonWith(inner as Record<string, unknown>, '"__proto__":{"polluted":"yes"}');
          const { [property]: _replaced, ...rest } = sample;
          const member = `${JSON.stringify(property)}:${Array.isArray(value) ? `[${protoInside}]` : protoInside}`;
          bodies.push([`${property}: {"__proto__":…}`, jsonWith(rest, member)]);
        }
        expect(await accepted(route, bodies), "prototype members not refused").to.deep.equal([]);
        assertNotPolluted();
      });
    }
  });

  describe("query strings: operator objects and arrays are refused (400); prototype keys change nothing", () => {
    for (const route of queryRoutes) {
      it(label(route), async () => {
        const path = fillPath(route, owner.ids);
        // Raw requests: this checks refusals, not the documented shape of the route's answer.
        const get = async (query: string) => {
          const response = await rawRequest(`${sys.stack.baseUrl}${path}?${query}`, route.method, {
            authorization: `Bearer ${owner.session.accessToken}`,
          });
          const body = response.headers["content-type"]?.startsWith("application/json")
            ? (JSON.parse(response.text) as ErrorBody)
            : ({ error: { code: "", status: 0 } } as ErrorBody);
          return { ...response, body };
        };
        for (const property of propertiesOf(route.query)) {
          for (const query of QUERY_OPERATORS(property)) {
            const response = await get(query);
            expect(response.status, `?${query} → ${response.text}`).to.equal(400);
            expect(response.body.error.code).to.equal("BAD_REQUEST");
          }
        }
        for (const query of ["$where=1", "%24where=1", "$ne=1", "filter[$where]=1"]) {
          const response = await get(query);
          expect(response.status, `?${query} → ${response.text}`).to.equal(400);
        }
        const baseline = await get("");
        expect(baseline.status).to.equal(route.status);
        for (const query of QUERY_PROTOTYPE_KEYS(propertiesOf(route.query)[0] ?? "x")) {
          const response = await get(query);
          if (response.status !== 400) {
            // qs drops these keys: the answer must be the one to the same request without them.
            expect(response.status, `?${query} → ${response.text}`).to.equal(baseline.status);
            expect(withoutVolatile(response.text), `?${query}`).to.deep.equal(withoutVolatile(baseline.text));
          }
        }
        assertNotPolluted();
      });
    }
  });

  describe("path parameters: operator text or traversal is never served (4xx)", () => {
    for (const route of ROUTES.filter((r) => r.access !== "public" && r.pathParams)) {
      it(label(route), async () => {
        const body = takesBody(route) ? JSON.stringify(sampleBody(route, owner.context)) : undefined;
        for (const name of Object.keys(route.pathParams ?? {})) {
          for (const value of [
            '{"$ne":null}',
            "[$ne]=1",
            "..%2F..%2Fme",
            "%00",
            "*",
            ".*",
            "'; return true; '",
          ]) {
            const segments = fillPath(route, owner.ids).split("/");
            segments[route.path.split("/").indexOf(`:${name}`)] = value.includes("%")
              ? value
              : encodeURIComponent(value);
            const response = await rawRequest(
              `${sys.stack.baseUrl}${segments.join("/")}`,
              route.method,
              { authorization: `Bearer ${owner.session.accessToken}`, "content-type": "application/json" },
              body,
            );
            expect(response.status, `:${name} = ${value} → ${response.text}`).to.be.within(400, 499);
          }
        }
      });
    }
  });

  it("leaves Object.prototype clean in this process (the embedded stack's gateway runs here)", function () {
    if (sys.stack.kind !== "embedded") this.skip();
    assertNotPolluted();
  });
});
