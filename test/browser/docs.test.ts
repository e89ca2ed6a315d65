import { expect } from "chai";
import { constants } from "node:fs";
import { access, writeFile } from "node:fs/promises";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { API_PREFIX, ROUTES } from "../../shared/api/index.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

/**
 * The API documentation in a real browser (Debian's Chromium, driven by playwright-core): it renders every
 * route of the table, loads nothing from anywhere but the gateway, and runs under its strict CSP without
 * a single console or page error.
 */

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  // Without these Chromium reaches out to Google on its own (and those connections are refused here).
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-default-apps",
];
const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** "METHOD /api/v1/path/{param}", as Swagger UI shows an operation. */
function operationKey(method: string, path: string): string {
  return `${method.trim().toUpperCase()} ${path.trim()}`;
}

function documentedPath(path: string): string {
  return API_PREFIX + path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

async function chromiumInstalled(): Promise<boolean> {
  try {
    await access(CHROMIUM_PATH, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

interface ConsoleError {
  text: string;
  url: string;
}

describe("The API documentation page in a browser", function () {
  let stack: Stack | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext;
  let page: Page;
  let origin: string;

  /** Every request the page made, as Playwright reports them. */
  const requests: string[] = [];
  /** Requests to anywhere but this machine: aborted, and recorded here. */
  const offMachine: string[] = [];
  const failedRequests: string[] = [];
  const badResponses: string[] = [];
  const consoleErrors: ConsoleError[] = [];
  const pageErrors: string[] = [];

  before(async function () {
    this.timeout(60_000);
    if (!(await chromiumInstalled())) {
      const message = `No Chromium at ${CHROMIUM_PATH}: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`;
      if (process.env.CI === "true") throw new Error(message);
      console.warn(`  skipping the browser tests. ${message}`);
      this.skip();
    }

    stack = await startStack();
    origin = new URL(stack.baseUrl).origin;
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.route("**/*", async (route) => {
      const url = new URL(route.request().url());
      if (url.protocol === "data:" || url.protocol === "blob:" || LOCAL_HOSTS.has(url.hostname)) {
        await route.continue();
      } else {
        offMachine.push(url.href);
        await route.abort("blockedbyclient");
      }
    });

    page = await context.newPage();
    page.on("request", (request) => requests.push(request.url()));
    page.on("requestfailed", (request) =>
      failedRequests.push(`${request.url()}: ${request.failure()?.errorText ?? "failed"}`),
    );
    page.on("response", (response) => {
      if (response.status() >= 400) badResponses.push(`${response.status()} ${response.url()}`);
    });
    page.on("console", (message) => {
      if (message.type() === "error")
        consoleErrors.push({ text: message.text(), url: message.location().url });
    });
    page.on("pageerror", (error) => pageErrors.push(error.stack ?? error.message));

    const response = await page.goto(`${stack.baseUrl}/docs`);
    expect(response?.status()).to.equal(200);
    await page.locator("#swagger-ui .information-container .title").waitFor({ state: "visible" });
    await page.locator("#swagger-ui .opblock").first().waitFor({ state: "visible" });
    await page.waitForLoadState("networkidle");
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it("renders the Swagger UI with every operation of the route table", async () => {
    expect(await page.title()).to.equal("Goal tracker API");
    const title = page.locator("#swagger-ui .information-container .title");
    expect(await title.isVisible()).to.equal(true);
    expect((await title.textContent())?.trim()).to.match(/^Goal tracker API\b/);

    const shown: string[] = [];
    for (const block of await page.locator("#swagger-ui .opblock").all()) {
      const method = await block.locator(".opblock-summary-method").textContent();
      const pathElement = block.locator(".opblock-summary-path");
      const path = await pathElement.getAttribute("data-path");
      expect(method, "an operation without a method").to.be.a("string");
      expect(path, "an operation without a data-path").to.be.a("string");
      // The visible path (with <wbr> break hints, which have no text) says the same as data-path.
      expect((await pathElement.textContent())?.trim()).to.equal(path);
      expect(await block.isVisible(), `${method} ${path} is hidden`).to.equal(true);
      shown.push(operationKey(method ?? "", path ?? ""));
    }

    const expected = ROUTES.map((route) => operationKey(route.method, documentedPath(route.path)));
    expect(new Set(shown).size, "an operation is listed twice").to.equal(shown.length);
    expect(shown.toSorted()).to.deep.equal(expected.toSorted());
  });

  it("expands an operation to show its request body schema", async () => {
    const register = ROUTES.find((route) => route.operationId === "register");
    expect(register, "the route table has no register operation").to.not.equal(undefined);
    const bodyProperties = Object.keys((register?.body?.properties ?? {}) as Record<string, unknown>);
    expect(bodyProperties).to.include.members(["email", "password"]);

    const path = documentedPath(register?.path ?? "");
    const block = page.locator(`#swagger-ui .opblock:has(.opblock-summary-path[data-path="${path}"])`);
    expect(await block.count()).to.equal(1);
    await block.locator(".opblock-summary-control").click();

    const requestBody = block.locator(".opblock-section-request-body");
    await requestBody.waitFor({ state: "visible" });
    expect(await requestBody.locator(".opblock-title").textContent()).to.contain("Request body");
    // The example value is generated from the schema: every body property is in it.
    const example = await requestBody.locator(".body-param__example").textContent();
    for (const property of bodyProperties) expect(example).to.contain(`"${property}"`);

    // The schema tab (OpenAPI 3.1: Swagger UI's JSON Schema 2020-12 view) lists exactly the body's
    // properties, marks the required ones, and says that no other property is allowed.
    await requestBody.getByRole("tab", { name: "Schema" }).click();
    const schema = requestBody.locator('[data-name="modelPanel"] article[data-json-schema-level="0"]');
    await schema.waitFor({ state: "visible" });
    const shownProperties: string[] = [];
    const shownRequired: string[] = [];
    for (const item of await schema.locator(".json-schema-2020-12-keyword--properties > ul > li").all()) {
      const name = (await item.locator(".json-schema-2020-12__title").first().textContent())?.trim() ?? "";
      shownProperties.push(name);
      if ((await item.getAttribute("class"))?.includes("json-schema-2020-12-property--required")) {
        shownRequired.push(name);
      }
    }
    expect(shownProperties.toSorted()).to.deep.equal(bodyProperties.toSorted());
    expect(shownRequired.toSorted()).to.deep.equal(((register?.body?.required ?? []) as string[]).toSorted());
    expect(await schema.locator(".json-schema-2020-12-keyword--additionalProperties").textContent()).to.match(
      /Additional properties\s*forbidden/,
    );

    const screenshot = await page.screenshot({ fullPage: true });
    expect(screenshot.subarray(1, 4).toString("latin1")).to.equal("PNG");
    // DOCS_SCREENSHOT=/tmp/docs.png keeps it, to look at.
    if (process.env.DOCS_SCREENSHOT) await writeFile(process.env.DOCS_SCREENSHOT, screenshot);
  });

  it("makes no request that leaves the machine: everything comes from the gateway", () => {
    expect(offMachine, "requests to other hosts").to.deep.equal([]);
    expect(requests).to.include.members([
      `${origin}${API_PREFIX}/docs`,
      `${origin}${API_PREFIX}/docs/assets/swagger-ui.css`,
      `${origin}${API_PREFIX}/docs/assets/swagger-ui-bundle.js`,
      `${origin}${API_PREFIX}/docs/assets/docs.js`,
      `${origin}${API_PREFIX}/openapi.json`,
    ]);
    const elsewhere = requests.filter((url) => new URL(url).origin !== origin);
    expect(elsewhere, "requests not to the gateway").to.deep.equal([]);
    expect(failedRequests, "failed requests").to.deep.equal([]);
    expect(badResponses, "error responses").to.deep.equal([]);
  });

  it("logs no console error and throws no page error: the CSP lets the page's own scripts run", () => {
    // The page declares an inline icon, so Chromium does not fetch /favicon.ico (a 404 would log an error).
    expect(consoleErrors, "console errors").to.deep.equal([]);
    expect(pageErrors, "page errors").to.deep.equal([]);
  });
});
