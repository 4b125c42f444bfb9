/**
 * The documentation page in a real browser: Debian's chromium, driven by playwright-core,
 * renders {baseURL}/docs from the gateway alone and shows every documented path.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { restRoutes } from "../../src/transport/rest/http-rules.js";
import { boundServices } from "../../src/transport/services/index.js";
import { SPEC_SELF, startTestGateway, type TestGateway } from "../support/gateway.js";

const CHROMIUM = "/usr/bin/chromium";

let gw: TestGateway;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
  gw = await startTestGateway(SPEC_SELF);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});
afterAll(async () => {
  await browser?.close();
  await gw?.stop();
});

it("{baseURL}/docs renders every REST path with its method, fetching nothing from elsewhere", async () => {
  const page = await browser.newPage();
  const requested: string[] = [];
  page.on("request", (req) => requested.push(req.url()));
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(String(err)));

  const res = await page.goto(`${gw.rest}/docs`);
  expect(res?.status()).toBe(200);
  const routes = restRoutes(boundServices(gw.ctx).map((b) => b.service)).filter((r) => r.method.methodKind === "unary");
  // Swagger UI renders one block per operation, collapsed, once the document is loaded.
  await page.waitForSelector(".opblock", { timeout: 30_000 });
  await expect.poll(() => page.locator(".opblock").count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(routes.length);

  // Swagger UI puts zero-width spaces before slashes so long paths can wrap.
  const text = (await page.locator("body").innerText()).replace(/\u200b/g, "");
  const blocks = await page.$$eval(".opblock-summary", (els) =>
    els.map((el) => {
      const method = el.querySelector(".opblock-summary-method")?.textContent ?? "";
      const path = el.querySelector(".opblock-summary-path")?.textContent ?? "";
      return `${method.trim()} ${path.replace(/\u200b/g, "").trim()}`;
    }),
  );
  for (const route of routes) {
    expect(text).toContain(route.template);
    expect(blocks).toContain(`${route.httpMethod} ${route.template}`);
  }
  for (const path of [
    "/releases",
    "/releases/{address}/pincode",
    "/releases/{address}/assign_barge",
    "/invitations",
    "/connections",
    "/subscriptions",
  ]) {
    expect(text).toContain(path);
  }
  // The summaries are the proto comments.
  expect(text).toContain("Get the pincode of the release.");
  expect(errors).toEqual([]);
  const origin = new URL(gw.url).origin;
  expect(requested.filter((url) => new URL(url).origin !== origin && !url.startsWith("data:"))).toEqual([]);
  expect(requested).toContain(`${gw.rest}/openapi.json`);
  await page.close();
});

it("opening an operation shows its parameters and the legacy JSON of its response", async () => {
  const page = await browser.newPage();
  await page.goto(`${gw.rest}/docs#/ReleaseService/getRelease`);
  await page.waitForSelector(".opblock.is-open", { timeout: 30_000 });
  const open = await page.locator(".opblock.is-open").innerText();
  expect(open).toContain("The address of the release.");
  expect(open).toContain('"release_data"');
  await page.close();
});
