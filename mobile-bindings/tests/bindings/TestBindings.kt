// The nachbar-mobile bindings from Kotlin on the JVM (JNA), without a server: a device works
// offline. Checks the typed edits and read models, the observer (called from the bindings'
// runtime threads), the unacknowledged counter, pause/resume, errors as MobileException with
// their message, and wiping. Prints "N passed, N failed" last.

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
    println("$passed passed, $failed failed")
    if (failed > 0) System.exit(1)
}
