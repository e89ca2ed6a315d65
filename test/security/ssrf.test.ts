import { lookup } from "node:dns/promises";
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { expect } from "chai";
import { registerUser } from "../helpers/api.ts";
import { PROBE_WEBHOOK_EVENTS, PROBE_WEBHOOK_URL, type UserSession } from "../helpers/security-routes.ts";
import { useSecurityStack } from "../helpers/security-stack.ts";

type ErrorBody = { error: { code: string; details?: { path: string; message: string }[] } };

/** Targets an attacker would point a webhook at, by what they reach. */
const TARGETS: Record<string, string[]> = {
  private: [
    "http://10.0.0.1/",
    "http://10.255.255.254:8080/hook",
    "http://192.168.1.1/",
    "http://172.16.0.1/",
    "http://172.31.255.255/",
    "http://100.64.0.1/", // carrier-grade NAT
    "http://100.100.100.200/latest/meta-data/", // a cloud metadata address inside CGNAT
  ],
  loopback: [
    "http://127.0.0.1/",
    "http://127.0.0.1:4222/", // the NATS port
    "https://127.0.0.1:3000/api/v1/admin/jobs/close-days/run",
    "http://127.255.255.254/",
    "http://[::1]/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://localhost/",
    "http://LOCALHOST:3000/",
    "http://localhost./",
    "http://127.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0x7f.0.0.1/",
    "http://0177.0.0.1/",
    "http://017700000001/",
    "http://127.000.000.001/",
    "http://①②⑦.⓪.⓪.①/", // IDNA folds these digits to 127.0.0.1
    "http://0.0.0.0/",
    "http://0/",
    "http://[::]/",
  ],
  "link-local": [
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.0.1/",
    "http://[fe80::1]/",
    "http://[fd00:ec2::254]/", // unique-local: the IPv6 metadata address
    "http://[fc00::1]/",
  ],
  "IPv4 inside IPv6": [
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[0:0:0:0:0:ffff:127.0.0.1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:10.0.0.1]/",
    "http://[::127.0.0.1]/", // IPv4-compatible
    "http://[64:ff9b::7f00:1]/", // NAT64
    "http://[2002:7f00:1::1]/", // 6to4
  ],
  "reserved and multicast": [
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "http://[ff02::1]/",
    "http://192.0.2.1/",
  ],
  "not http": [
    "file:///etc/passwd",
    "gopher://127.0.0.1:25/",
    "ftp://93.184.215.14/",
    "dict://127.0.0.1:11211/",
    "javascript:alert(1)",
    "data:text/plain,hi",
    "ws://93.184.215.14/",
  ],
  "tricks in the URL": [
    "http://93.184.215.14@127.0.0.1/",
    "http://user:pass@93.184.215.14/", // credentials are refused outright
    "http://127.0.0.1#@93.184.215.14/",
    "http://127.0.0.1\\@93.184.215.14/",
    "http://127.0.0.1%2f@93.184.215.14/",
  ],
};

/** Names this machine's hosts file maps to a loopback address (no DNS server is asked). */
function loopbackNamesFromHosts(): string[] {
  let text = "";
  try {
    text = readFileSync("/etc/hosts", "utf8");
  } catch {
    return [];
  }
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    const [address, ...aliases] = line.replace(/#.*/, "").trim().split(/\s+/);
    if (!address || !(address.startsWith("127.") || address === "::1")) continue;
    for (const alias of aliases) if (alias && isIP(alias) === 0) names.add(alias);
  }
  return [...names];
}

describe("Security: webhook SSRF (WEBHOOK_ALLOW_PRIVATE=false, the default)", function () {
  this.timeout(120_000);
  const sys = useSecurityStack();
  let user: UserSession;

  before(async () => {
    user = await registerUser(sys.api);
  });

  const create = (url: string) =>
    sys.api.post<ErrorBody & { id: string }>(
      "/webhooks",
      { url, events: PROBE_WEBHOOK_EVENTS },
      { token: user.accessToken },
    );

  async function expectRefused(url: string): Promise<void> {
    const response = await create(url);
    expect(response.status, `${url} → ${response.text}`).to.equal(422);
    expect(response.body.error.code, url).to.equal("VALIDATION_ERROR");
    expect(
      response.body.error.details?.map((detail) => detail.path),
      url,
    ).to.include("/url");
  }

  it("control: a public address given as a literal is accepted (so each refusal below is about the address)", async () => {
    const response = await create(PROBE_WEBHOOK_URL);
    expect(response.status, response.text).to.equal(201);
    expect(
      (await sys.api.delete(`/webhooks/${response.body.id}`, { token: user.accessToken })).status,
    ).to.equal(204);
  });

  for (const [kind, urls] of Object.entries(TARGETS)) {
    it(`refuses ${kind} targets with 422 VALIDATION_ERROR at /url`, async () => {
      for (const url of urls) await expectRefused(url);
    });
  }

  it("refuses host names that resolve to loopback here (from /etc/hosts, no external DNS)", async function () {
    const names = ["localhost", ...loopbackNamesFromHosts()];
    const resolving: string[] = [];
    for (const name of new Set(names)) {
      const addresses = await lookup(name, { all: true }).catch(() => []);
      if (addresses.length > 0 && addresses.every((entry) => /^127\.|^::1$/.test(entry.address)))
        resolving.push(name);
    }
    expect(resolving, "localhost resolves to loopback on this machine").to.include("localhost");
    for (const name of resolving) {
      await expectRefused(`http://${name}/hook`);
      await expectRefused(`https://${name.toUpperCase()}:8443/hook`);
    }
  });

  it("kept none of the refused webhooks", async () => {
    const list = await sys.api.get<{ items: unknown[] }>("/webhooks", { token: user.accessToken });
    expect(list.body.items).to.deep.equal([]);
  });
});
