// The nachbar-mobile bindings from Kotlin on the JVM (JNA). First a device works offline: the
// typed edits and read models, the observer (called from the bindings' runtime threads), the
// unacknowledged counter, pause/resume, errors as MobileException with their message, wiping.
// Then (SERVER_BIN set) two devices edit offline and converge through the real server. Prints
// "N passed, N failed" last.

import de.nachbar.core.ClientObserver
import de.nachbar.core.Connection
import de.nachbar.core.MobileException
import de.nachbar.core.NachbarClient
import de.nachbar.core.SyncStatusRecord
import java.io.File
import java.nio.file.Files
import java.util.concurrent.CopyOnWriteArrayList

var passed = 0
var failed = 0

fun check(name: String, ok: Boolean) {
    if (ok) {
        passed++
        println("ok $name")
    } else {
        failed++
        println("FAIL $name")
    }
}

class Recorder : ClientObserver {
    val changed = CopyOnWriteArrayList<Pair<String, Boolean>>()
    val threads = CopyOnWriteArrayList<String>()

    override fun documentChanged(documentId: String, remote: Boolean) {
        changed.add(documentId to remote)
        threads.add(Thread.currentThread().name)
    }

    override fun documentRemoved(documentId: String) {}

    override fun statusChanged(status: SyncStatusRecord) {
        threads.add(Thread.currentThread().name)
    }
}

fun waitFor(what: String, timeoutMs: Long = 30_000, check: () -> Boolean): Boolean {
    val deadline = System.currentTimeMillis() + timeoutMs
    while (System.currentTimeMillis() < deadline) {
        if (check()) return true
        Thread.sleep(50)
    }
    println("timed out: $what")
    return false
}

fun synced(c: NachbarClient): Boolean {
    val s = c.status()
    return s.connection == Connection.ONLINE && s.unacknowledged == 0uL
}

/** The real server on a free port, with admin commands; killed at the end. */
class Server(private val bin: String) {
    val dir: File = Files.createTempDirectory("nachbar-server").toFile()
    val port: Int = java.net.ServerSocket(0).use { it.localPort }
    private val process: Process = ProcessBuilder(bin, "--data-dir", dir.path, "--listen", "127.0.0.1:$port")
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .also { it.environment()["RUST_LOG"] = "warn" }
        .start()
    val url = "http://127.0.0.1:$port"

    init {
        waitFor("the server listens") {
            try { java.net.Socket("127.0.0.1", port).close(); true } catch (e: java.io.IOException) { false }
        }
    }

    fun admin(vararg args: String): String {
        val p = ProcessBuilder(bin, "--data-dir", dir.path, "admin", *args).start()
        val out = p.inputStream.bufferedReader().readText().trim()
        check(p.waitFor() == 0) { "admin ${args.toList()} failed: ${p.errorStream.bufferedReader().readText()}" }
        return out
    }

    fun close() {
        process.destroyForcibly().waitFor()
        dir.deleteRecursively()
    }
}

/** Two devices of the coach edit offline, then sync through the real server and converge. */
fun twoDevices(serverBin: String) {
    val server = Server(serverBin)
    try {
        server.admin("init")
        val hood = server.admin("add-neighbourhood", "--name", "Testpark")
        val business = server.admin("add-business", "--neighbourhood", hood, "--name", "Glaserei")
        val coach = server.admin("add-user", "--name", "Coach", "--role", "coach", "--scope", business)
        val token = server.admin("issue-token", "--user", coach)
        val dir = Files.createTempDirectory("nachbar-devices").toFile()
        val phone = NachbarClient.openForTests(File(dir, "phone.sqlite3").path, server.url, token, coach, 200uL)
        val tablet = NachbarClient.openForTests(File(dir, "tablet.sqlite3").path, server.url, token, coach, 200uL)
        val heard = Recorder()
        val subscription = tablet.subscribe(heard)

        val doc = phone.createAssessment(hood, business, "T0", "de")
        val plan = phone.createActionPlan(hood, business)
        val measure = phone.addMeasure(plan, "Funktionspostfach einrichten")
        val ws = phone.createWorkshop(hood, "Werkstatt", "2026-11-12", "09:00", "10:00")
        val block = phone.addBlock(ws, "Kollegiale Beratung", "method", 45u, null)
        phone.start()
        check("the phone uploads its offline work", waitFor("phone synced") { synced(phone) })
        tablet.start()
        check("the tablet fetches it", waitFor("tablet has all") {
            tablet.documents().map { it.id }.containsAll(listOf(doc, plan, ws)) && synced(tablet) &&
                tablet.workshop(ws).agenda.isNotEmpty()
        })

        phone.pause()
        tablet.pause()
        check("both paused", waitFor("paused") {
            phone.status().connection == Connection.PAUSED && tablet.status().connection == Connection.PAUSED
        })
        phone.setLevel(doc, "C2", 1L)
        tablet.setLevel(doc, "C2", 3L)
        tablet.setLevel(doc, "A1", 2L)
        phone.setMeasureStatus(plan, measure, "blocked", "Software-Update fehlt")
        tablet.setMeasureStatus(plan, measure, "done", "")
        tablet.setBlockDuration(ws, block, 40u)
        check("offline edits counted", phone.status().unacknowledged == 2uL && tablet.status().unacknowledged == 4uL)
        phone.resume()
        tablet.resume()
        check("both converge", waitFor("converged") {
            synced(phone) && synced(tablet) &&
                phone.assessment(doc) == tablet.assessment(doc) &&
                phone.actionPlan(plan) == tablet.actionPlan(plan) &&
                phone.workshop(ws) == tablet.workshop(ws)
        })
        val c2 = phone.assessment(doc).needsReview.firstOrNull { it.field == "answers/C2/level" }
        check("the concurrent answers await review", c2 != null && c2.values.sorted() == listOf("1", "3"))
        check("both transitions kept", phone.actionPlan(plan).measures.first().statusHistory.map { it.to }.containsAll(listOf("blocked", "done")))
        check("the tablet heard the phone's changes", waitFor("remote event") { heard.changed.any { it.first == doc && it.second } })
        subscription.cancel()
        phone.stop()
        tablet.stop()
        dir.deleteRecursively()
    } finally {
        server.close()
    }
}

fun main() {
    val dir = Files.createTempDirectory("nachbar-kotlin").toFile()
    val db = File(dir, "phone.sqlite3").path
    // Nothing listens on port 9: the device stays offline.
    val client = NachbarClient.openForTests(db, "http://127.0.0.1:9", "token", "coach-1", 200uL)
    val recorder = Recorder()
    val subscription = client.subscribe(recorder)

    val doc = client.createAssessment("hood", "glaserei", "T0", "de")
    client.setLevel(doc, "C2", 3L)
    client.setAnswerNote(doc, "C2", "Vorlagen fehlen.")
    val a = client.assessment(doc)
    val c2 = a.items.first { it.id == "C2" }
    check("a level set offline reads back", c2.level == 3.toUByte() && c2.note == "Vorlagen fehlen.")
    check("catalogue texts in German and English", c2.text.de.isNotEmpty() && c2.text.en.isNotEmpty() && c2.text.de != c2.text.en)
    check("the status is coded with names", a.status.code.isNotEmpty() && a.status.de.isNotEmpty())

    val plan = client.createActionPlan("hood", "glaserei")
    val measure = client.addMeasure(plan, "E-Rechnungsempfang einrichten")
    client.setMeasureStatus(plan, measure, "blocked", "Software-Update fehlt")
    val m = client.actionPlan(plan).measures.first()
    check("a measure's status", m.status.code == "blocked" && m.statusHistory.any { it.note == "Software-Update fehlt" })

    val ws = client.createWorkshop("hood", "Werkstatt", "2026-11-12", "09:00", "10:00")
    client.addBlock(ws, "Begrüßung", "welcome", 15u, null)
    val block = client.addBlock(ws, "Kollegiale Beratung", "method", 60u, null)
    client.setBlockDuration(ws, block, 50u)
    val w = client.workshop(ws)
    check("agenda start times computed", w.agenda.map { it.plannedStart } == listOf("09:00", "09:15") && w.overrunMin == 5u)

    check("every edit waits for the server", client.status().unacknowledged == 10uL)

    try {
        client.setLevel(doc, "C2", 9L)
        check("an invalid level is refused", false)
    } catch (e: MobileException.InvalidInput) {
        check("an invalid level is refused with its message", e.message.contains("level"))
    }
    try {
        client.assessment("not a document")
        check("a bad id is refused", false)
    } catch (e: MobileException.InvalidInput) {
        check("a bad id is refused", true)
    }
    check("nothing of the refused edits was kept", client.status().unacknowledged == 10uL)
    val exported = client.exportDocument(doc)
    check("an export is an Automerge file", exported.size > 4 && exported[0] == 0x85.toByte() && exported[1] == 0x6f.toByte())
    try {
        client.discardDocument(doc)
        check("a document waiting for its upload cannot be discarded", false)
    } catch (e: MobileException.InvalidInput) {
        check("a document waiting for its upload cannot be discarded", e.message.contains("set aside"))
    }
    check("nothing set aside", client.status().undelivered == 0uL && client.status().setAside.isEmpty())

    client.start()
    Thread.sleep(300)
    client.pause()
    var paused = false
    for (i in 0 until 100) {
        if (client.status().connection == Connection.PAUSED) { paused = true; break }
        Thread.sleep(50)
    }
    check("pause", paused)
    client.resume()
    Thread.sleep(200)
    check("resume leaves the paused state", client.status().connection != Connection.PAUSED)

    Thread.sleep(200)
    check("the observer heard the local edits", recorder.changed.count { it.first == doc && !it.second } >= 3)
    check("from the bindings' threads", recorder.threads.isNotEmpty() && recorder.threads.none { it == "main" })
    subscription.cancel()
    client.stop()
    client.signOutAndWipe()
    check("sign out removes the database", !File(db).exists())
    dir.deleteRecursively()
    System.getenv("SERVER_BIN")?.let { twoDevices(it) }
    println("$passed passed, $failed failed")
    if (failed > 0) System.exit(1)
}
