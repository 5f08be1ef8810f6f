// The browser suite of the nachbar web app: real headless Chromium (Debian's /usr/bin/chromium)
// driven by playwright-core, axe-core scans of every page, screenshots under target/.
//
// Run by tests/src/web_browser.rs, which starts the server with the demo, gives this script
// NACHBAR_WEB_SUITE (JSON: base URL, demo people, screenshot directory) and plays the coach's
// phone (a real nachbar Client with its own database) at the sync points: the script prints
// `WAIT <what> <arg>` and continues when it reads a line from stdin.
//
// Each check prints `ok - …` or `not ok - …`; the last line is `N passed, M failed`.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { downloadReport, suite } from "./lib.mjs";

const s = suite();
const { cfg, check, waitFor, person, scan, shot, watchErrors, signIn, refusedOnPurpose } = s;

await s.run(async () => {
  const browser = s.browser;
  // The coordinator at the office, in German.
  const office = await browser.newContext({ locale: "de-DE", viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await office.newPage();
  watchErrors(page, "office");
  await page.goto(cfg.base + "/");
  check("a browser at / gets the sign-in page", page.url().includes("/login"), page.url());
  check("the sign-in page is German", (await page.getAttribute("html", "lang")) === "de");
  await shot(page, "01-login-de");
  await scan(page, "sign-in page");
  // A wrong password is refused at the form.
  const coordinator = person("coordinator");
  await page.getByLabel("Anmeldename").fill(coordinator.login);
  await page.getByLabel("Passwort", { exact: true }).fill("falsches-passwort");
  refusedOnPurpose.add(cfg.base + "/login");
  await page.getByRole("button", { name: "Anmelden" }).click();
  check("a wrong password is refused", (await page.locator("#login-error").textContent()).includes("stimmen nicht"));
  await signIn(page, coordinator);
  await page.waitForURL(/\/n\//);
  const hood = page.url();
  check("the coordinator lands on the neighbourhood home", /\/n\/[0-9a-f-]+$/.test(hood), hood);
  const heat = page.getByRole("table", { name: "Was die Betriebe je Themenfeld teilen" });
  const rows = await heat.locator("tbody tr").count();
  check("the heat map shows the twelve demo businesses", rows === 12, `${rows} rows`);
  check("heat map cells carry a symbol and words, not colour alone",
    (await heat.locator("td").first().innerText()).trim().length > 1);
  check("aggregates below the threshold say 'weniger als'", (await page.getByText(/weniger als 3/).count()) > 0);
  await shot(page, "02-neighbourhood-home-de");
  await scan(page, "neighbourhood home");
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Themenkarte als CSV herunterladen" }).click()]);
  const csv = readFileSync(await download.path());
  check("the CSV starts with a UTF-8 BOM and uses ';'", csv[0] === 0xef && csv[1] === 0xbb && csv[2] === 0xbf && csv.toString("utf8").includes(";"));
  check("the CSV lists the businesses", csv.toString("utf8").includes("Glaserei Brandt"));
  const summaryDe = await downloadReport(page, "Bericht für Kammer und Förderer", "de");
  check("the neighbourhood summary PDF names the neighbourhood and its businesses",
    summaryDe.bytes.subarray(0, 5).toString() === "%PDF-" && summaryDe.text.includes("Gewerbepark Lindenfeld") && summaryDe.text.includes("Druckerei Lange"), summaryDe.text.slice(0, 300));
  const summaryEn = await downloadReport(page, "Bericht für Kammer und Förderer", "en");
  check("the English summary is English", summaryEn.text.includes("Digitalisation neighbourhood report") && summaryEn.name === "neighbourhood-report.pdf");

  // Businesses and people: add a business and invite its owner.
  await page.getByRole("link", { name: "Betriebe und Personen" }).click();
  await page.waitForURL(/businesses$/);
  await page.getByLabel("Name des Betriebs").fill("Testbetrieb Müller & <Söhne>");
  await page.getByLabel("Gewerk").fill("Tischler");
  await page.locator("#add-business").click();
  await page.waitForURL(/businesses$/);
  const card = page.locator("section.card", { has: page.getByRole("heading", { name: "Testbetrieb Müller & <Söhne>" }) });
  check("the new business is listed (its name escaped, shown as typed)", (await card.count()) === 1);
  await shot(page, "03-businesses-de");
  await scan(page, "businesses and people");
  await card.getByText("Person einladen").click();
  await card.getByLabel("Name").fill("Mira Neu");
  await card.getByRole("button", { name: "Einladen" }).click();
  const link = (await page.locator("#invite-link").textContent()).trim();
  check("the invitation shows a one-time link", link.startsWith(cfg.base + "/enroll?code="), link);
  await shot(page, "04-invite-link-de");
  await scan(page, "invitation link");

  // The invited owner enrols in a second browser (English) and signs in.
  const tablet = await browser.newContext({ locale: "en-GB", viewport: { width: 1024, height: 768 } });
  const owner = await tablet.newPage();
  watchErrors(owner, "owner");
  await owner.goto(link);
  check("the enrolment page follows Accept-Language (English)", (await owner.getAttribute("html", "lang")) === "en");
  await shot(owner, "05-enroll-en");
  await scan(owner, "enrolment page");
  await owner.getByLabel("Login name").fill("mira.neu");
  await owner.getByLabel("Password", { exact: true }).fill("sicheres passwort 1");
  await owner.getByLabel("Repeat password").fill("sicheres passwort 1");
  await owner.getByRole("button", { name: "Set up account" }).click();
  await owner.waitForURL(/login/);
  check("after enrolment the sign-in page says the account is ready", (await owner.getByText("Account ready").count()) === 1);
  await signIn(owner, { login: "mira.neu", password: "sicheres passwort 1" });
  await owner.waitForURL(/\/b\//);
  check("the owner lands on their business's home", /\/b\/[0-9a-f-]+$/.test(owner.url()) && (await owner.getByRole("heading", { level: 1 }).innerText()) === "Testbetrieb Müller & <Söhne>", owner.url());
  await shot(owner, "06-owner-start-en");
  await scan(owner, "owner start page");
  refusedOnPurpose.add(link.split("?")[0]);
  const again = await owner.goto(link);
  check("the invitation link works once only", again.status() === 404);

  // Workshops: plan one, add blocks, move one in place.
  await page.goto(hood + "/workshops");
  await page.getByLabel("Titel").fill("Workshop E-Rechnung");
  await page.getByLabel("Datum").fill(cfg.workshopDate);
  await page.getByLabel("Beginn").fill("09:00");
  await page.getByLabel("Ende").fill("10:30");
  await page.getByLabel("Ort").fill("Druckerei Lange, Halle 2");
  await page.locator("#create-workshop").click();
  await page.waitForURL(/\/w\//);
  const workshop = page.url();
  const doc = workshop.split("/w/")[1];
  check("the workshop page opens after planning", doc.length > 10, workshop);
  await page.evaluate(() => { window.nachbarMarker = 42; });
  for (const [title, minutes] of [["Begrüßung", "15"], ["Impuls E-Rechnung", "30"], ["Kollegiale Beratung", "40"]]) {
    const details = page.locator("details:has(#add-block)");
    if (!(await details.evaluate((d) => d.open))) await details.locator("summary").click();
    await page.locator("#nb-title").fill(title);
    await page.locator("#nb-duration").fill(minutes);
    await page.locator("#add-block").click();
    await page.getByRole("rowheader", { name: new RegExp(title) }).waitFor();
  }
  const agenda = page.getByRole("table", { name: /Ablauf mit berechneten Anfangszeiten/ });
  const starts = await agenda.locator("tbody tr td:first-child").allInnerTexts();
  check("start times are computed from the blocks before", starts.join(",") === "09:00,09:15,09:45", starts.join(","));
  await page.getByRole("button", { name: "Nach unten: Begrüßung" }).click();
  await page.waitForFunction(() => document.querySelector("#agenda tbody tr th")?.textContent.includes("Impuls"));
  const order = await agenda.locator("tbody tr th").allInnerTexts();
  check("moving a block down reorders the agenda", order[0].startsWith("Impuls") && order[1].startsWith("Begrüßung"), order.join(" | "));
  check("the move happened in place (no reload)", (await page.evaluate(() => window.nachbarMarker)) === 42);
  const focused = await page.evaluate(() => document.activeElement?.id || "");
  check("focus stays on the moved block's button", focused.startsWith("down-"), focused);
  await page.getByLabel("Dauer (Minuten): Kollegiale Beratung").fill("60");
  await page.getByRole("button", { name: "Speichern: Dauer (Minuten), Kollegiale Beratung" }).click();
  await page.locator("#overrun").waitFor();
  check("an agenda longer than its slot shows the overrun warning", (await page.locator("#overrun").innerText()).includes("105"));
  await shot(page, "07-workshop-de");
  await scan(page, "workshop page");

  // The coach's phone edits the agenda offline and syncs; the open page shows it.
  await page.waitForFunction(() => document.documentElement.getAttribute("data-live") === "open");
  await waitFor("coach-offline-edit", doc);
  await page.getByRole("rowheader", { name: /Offline-Block vom Handy/ }).waitFor({ timeout: 15000 });
  check("a phone's offline edit appears in the open page without a reload", (await page.evaluate(() => window.nachbarMarker)) === 42);

  // An edit in the page reaches the phone.
  await page.getByLabel("Text").first().fill("Entscheidung aus dem Browser");
  await page.locator("#decisions-add").click();
  await page.getByText("Entscheidung aus dem Browser").waitFor();
  await waitFor("page-edit-reached-phone", doc);
  check("the page's edit reached the phone", true);

  // A printable agenda.
  await page.goto(workshop + "/print");
  await page.emulateMedia({ media: "print" });
  await page.pdf({ path: join(cfg.shots, "08-agenda-print.pdf"), format: "A4" });
  await page.emulateMedia({ media: "screen" });
  await shot(page, "08-agenda-print-de");
  await scan(page, "printable agenda");

  // Joint offerings.
  await page.goto(hood + "/offerings");
  await page.getByLabel("Titel").fill("Schulung E-Rechnung für alle");
  await page.getByLabel("Mindestplätze").fill("8");
  await page.locator("#create-offering").click();
  await page.getByRole("heading", { name: "Schulung E-Rechnung für alle" }).waitFor();
  check("a joint offering is created", true);
  await shot(page, "09-offerings-de");
  await scan(page, "joint offerings");

  // The workshop list, the switch to English and the English home.
  await page.goto(hood + "/workshops");
  await shot(page, "10-workshops-de");
  await scan(page, "workshop list");
  await page.getByRole("link", { name: "English" }).click();
  await page.waitForLoadState();
  check("the language switch turns the page English", (await page.getAttribute("html", "lang")) === "en");
  await page.goto(hood);
  check("the choice persists on the next page", (await page.getByRole("heading", { name: "Topic heat map" }).count()) === 1);
  await shot(page, "11-neighbourhood-home-en");
  await scan(page, "neighbourhood home (English)");
  refusedOnPurpose.add(cfg.base + "/w/1111111111111111111111");
  const missing = await page.goto(cfg.base + "/w/1111111111111111111111");
  check("an unknown page answers 404", missing.status() === 404);
  await shot(page, "12-not-found-en");
  await scan(page, "not found page");

});
