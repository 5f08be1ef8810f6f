// What every browser suite of the nachbar web app shares: the checks and their count, the sync
// points with the Rust test (`WAIT <what> <arg>` on stdout, continue on a `GO` line on stdin),
// axe-core scans, screenshots, console-error watching, signing in, launching Debian's Chromium
// and the closing line `N passed, M failed`.
import { chromium } from "playwright-core";
import AxeBuilder from "@axe-core/playwright";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import readline from "node:readline";

export function suite() {
  const cfg = JSON.parse(process.env.NACHBAR_WEB_SUITE);
  mkdirSync(cfg.shots, { recursive: true });
  const stdinLines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  const s = { cfg, passed: 0, failed: 0, problems: [], refusedOnPurpose: new Set(), browser: null };

  s.check = (name, ok, detail = "") => {
    if (ok) {
      s.passed += 1;
      console.log(`ok - ${name}`);
    } else {
      s.failed += 1;
      console.log(`not ok - ${name}${detail ? ": " + detail : ""}`);
    }
  };

  s.waitFor = async (what, arg) => {
    console.log(`WAIT ${what} ${arg}`);
    const line = await stdinLines.next();
    if (line.done || !line.value.startsWith("GO")) throw new Error(`no GO after ${what}: ${line.value}`);
  };

  s.person = (role, business) =>
    cfg.people.find((p) => p.role === role && (business === undefined || p.business === business));

  s.scan = async (page, name) => {
    const result = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
    const v = result.violations.map((x) => `${x.id} (${x.nodes.length}): ${x.nodes.slice(0, 2).map((n) => n.target.join(" ")).join(", ")}`);
    s.check(`axe: ${name} has no WCAG 2.1 AA violations`, v.length === 0, v.join("; "));
  };

  // `caret: "initial"`: playwright would otherwise leave `style=""` on inputs, which a later
  // htmx swap copies and the page's CSP (no inline styles) then reports.
  s.shot = (page, name) => page.screenshot({ path: join(cfg.shots, `${name}.png`), fullPage: true, caret: "initial" });

  // Pages a suite opens on purpose to see them refused: the browser logs their status as a
  // console error, which is expected.
  s.watchErrors = (page, label) => {
    page.on("pageerror", (e) => s.problems.push(`${label}: page error ${e.message}`));
    page.on("console", (m) => {
      if (m.type() !== "error") return;
      const url = m.location()?.url || "";
      if (m.text().startsWith("Failed to load resource") && s.refusedOnPurpose.has(url.split("?")[0])) return;
      s.problems.push(`${label}: console ${m.text()} (${url})`);
    });
  };

  s.signIn = async (page, who) => {
    await page.goto(cfg.base + "/");
    await page.locator("#login").fill(who.login);
    await page.locator("#password").fill(who.password);
    await page.getByRole("button", { name: /Anmelden|Sign in/ }).click();
  };

  s.launch = async () => {
    s.browser = await chromium.launch({
      executablePath: cfg.chromium,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
    });
    return s.browser;
  };

  // Runs the scenario `body`; a thrown error counts as a failed check, with screenshots of
  // every open page. Prints the closing line and exits.
  s.run = async (body) => {
    await s.launch();
    try {
      await body();
      s.check("no page logged an error", s.problems.length === 0, s.problems.join("; "));
      writeFileSync(join(cfg.shots, `summary-${cfg.name || "suite"}.txt`), `${s.passed} checks\n`);
    } catch (e) {
      s.failed += 1;
      console.log(`not ok - the scenario ran to its end: ${e.stack || e}`);
      let i = 0;
      for (const context of s.browser.contexts()) {
        for (const open of context.pages()) {
          i += 1;
          await open.screenshot({ path: join(cfg.shots, `failure-${cfg.name || "suite"}-${i}.png`), fullPage: true }).catch(() => {});
          console.log(`# page ${i} was at ${open.url()}`);
        }
      }
      if (s.problems.length) console.log(`# errors: ${s.problems.join("; ")}`);
    } finally {
      await s.browser.close();
    }
    console.log(`${s.passed} passed, ${s.failed} failed`);
    process.exit(s.failed === 0 ? 0 : 1);
  };
  return s;
}

// The text of a downloaded PDF as Debian's pdftotext reads it (white space collapsed).
export function pdfText(path) {
  return execFileSync("pdftotext", [path, "-"], { encoding: "utf8" }).replace(/\s+/g, " ");
}

// Downloads the report of the form headed `heading` on `page` in `lang` ("de" or "en");
// returns the PDF's bytes and its text.
export async function downloadReport(page, heading, lang) {
  const form = page.locator("form.pdf-form", { has: page.getByRole("heading", { name: heading }) });
  await form.locator("select[name=lang]").selectOption(lang);
  const [download] = await Promise.all([page.waitForEvent("download"), form.locator("button[type=submit]").click()]);
  const path = await download.path();
  return { bytes: readFileSync(path), text: pdfText(path), name: download.suggestedFilename() };
}
