"""The nachbar-mobile bindings from Python, against the real server.

Two devices of the coach (each its own database) edit offline: assessment answers, a measure's
status, an agenda block; then they sync and converge. Also checked: observer callbacks (from
the bindings' runtime threads), the unacknowledged counters, pause/resume, errors raised with
their type and message, cancelled subscriptions, sign out and wipe.

Run by scripts/bindings: BINDINGS_DIR holds nachbar_mobile.py and the library, SERVER_BIN the
nachbar-server binary. Prints "N passed, N failed" last.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.environ["BINDINGS_DIR"])
import nachbar_mobile as nm  # noqa: E402

SERVER_BIN = os.environ["SERVER_BIN"]
TIMEOUT = 30.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The real server on a free port with a temporary data directory."""

    def __init__(self):
        self.dir = tempfile.TemporaryDirectory()
        self.port = free_port()
        self.proc = subprocess.Popen(
            [SERVER_BIN, "--data-dir", self.dir.name, "--listen", f"127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL,
            env=dict(os.environ, RUST_LOG="warn"),
        )
        deadline = time.time() + TIMEOUT
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)

    def admin(self, *args):
        out = subprocess.run(
            [SERVER_BIN, "--data-dir", self.dir.name, "admin", *args],
            check=True, capture_output=True, text=True,
        )
        return out.stdout.strip()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def close(self):
        self.proc.kill()
        self.proc.wait()
        self.dir.cleanup()


def wait_for(what, check):
    deadline = time.time() + TIMEOUT
    while not check():
        if time.time() > deadline:
            raise AssertionError(f"timed out: {what}")
        time.sleep(0.05)


class Recorder(nm.ClientObserver):
    """Collects what the bindings tell the app, with the thread each call came from."""

    def __init__(self):
        self.lock = threading.Lock()
        self.changed = []
        self.statuses = []
        self.threads = set()

    def document_changed(self, document_id, remote):
        with self.lock:
            self.changed.append((document_id, remote))
            self.threads.add(threading.current_thread().name)

    def document_removed(self, document_id):
        pass

    def status_changed(self, status):
        with self.lock:
            self.statuses.append(status)
            self.threads.add(threading.current_thread().name)


def synced(client):
    s = client.status()
    return s.connection == nm.Connection.ONLINE and s.unacknowledged == 0


class BindingsScenario(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        s = cls.server
        s.admin("init")
        cls.hood = s.admin("add-neighbourhood", "--name", "Testpark")
        cls.business = s.admin("add-business", "--neighbourhood", cls.hood, "--name", "Glaserei")
        cls.coach = s.admin("add-user", "--name", "Coach", "--role", "coach", "--scope", cls.business)
        cls.token = s.admin("issue-token", "--user", cls.coach)
        cls.dir = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        cls.dir.cleanup()

    def device(self, name):
        return nm.NachbarClient.open_for_tests(
            os.path.join(self.dir.name, f"{name}.sqlite3"), self.server.url, self.token, self.coach, 200
        )

    def test_1_two_devices_edit_offline_and_converge(self):
        phone, tablet = self.device("phone"), self.device("tablet")
        recorder = Recorder()
        subscription = tablet.subscribe(recorder)
        doc = phone.create_assessment(self.hood, self.business, "T0", "de")
        plan = phone.create_action_plan(self.hood, self.business)
        measure = phone.add_measure(plan, "E-Rechnungsempfang einrichten")
        workshop = phone.create_workshop(self.hood, "Werkstatt E-Rechnung", "2026-11-12", "09:00", "10:00")
        block = phone.add_block(workshop, "Kollegiale Beratung", "method", 45, None)
        self.assertEqual(phone.status().unacknowledged, 5, "created and edited offline")
        self.assertEqual(phone.status().connection, nm.Connection.STOPPED)

        phone.start()
        wait_for("the phone uploads", lambda: synced(phone))
        tablet.start()
        wait_for("the tablet gets all three", lambda: {doc, plan, workshop} <= {d.id for d in tablet.documents()})
        wait_for("the tablet is synced", lambda: synced(tablet))
        wait_for("and has the contents", lambda: tablet.workshop(workshop).agenda)

        # Offline on both.
        phone.pause()
        tablet.pause()
        wait_for("paused", lambda: phone.status().connection == nm.Connection.PAUSED
                 and tablet.status().connection == nm.Connection.PAUSED)
        phone.set_level(doc, "C2", 1)
        phone.set_answer_note(doc, "C2", "Vorlagen fehlen.")
        tablet.set_level(doc, "C2", 3)
        tablet.set_level(doc, "A1", 2)
        phone.set_measure_status(plan, measure, "blocked", "Software-Update fehlt")
        tablet.set_measure_status(plan, measure, "done", "")
        tablet.set_block_duration(workshop, block, 40)
        self.assertEqual(phone.status().unacknowledged, 3)
        self.assertEqual(tablet.status().unacknowledged, 4)
        self.assertEqual(tablet.status().unacknowledged_by_document[doc], 2)

        phone.resume()
        tablet.resume()
        wait_for("both synced", lambda: synced(phone) and synced(tablet))
        wait_for("both converge", lambda: phone.assessment(doc) == tablet.assessment(doc)
                 and phone.action_plan(plan) == tablet.action_plan(plan)
                 and phone.workshop(workshop) == tablet.workshop(workshop))

        a = phone.assessment(doc)
        c2 = next(i for i in a.items if i.id == "C2")
        self.assertIn(c2.level, (1, 3))
        self.assertEqual(c2.note, "Vorlagen fehlen.")
        self.assertEqual(next(i for i in a.items if i.id == "A1").level, 2)
        self.assertTrue(c2.text.de and c2.text.en, "catalogue texts in German and English")
        review = next(r for r in a.needs_review if r.field == "answers/C2/level")
        self.assertEqual(sorted(review.values), ["1", "3"])
        phone.resolve(doc, "answers/C2/level", "3")
        phone.sign_off(doc, "coach")
        with self.assertRaises(nm.MobileError.InvalidInput):
            phone.sign_off(workshop, "coach")
        resolved = phone.assessment(doc)
        self.assertEqual(next(i for i in resolved.items if i.id == "C2").level, 3)
        self.assertFalse([r for r in resolved.needs_review if r.field == "answers/C2/level"])
        m = phone.action_plan(plan).measures[0]
        self.assertTrue({"blocked", "done"} <= {h.to for h in m.status_history}, m.status_history)
        self.assertIn(m.status.code, ("blocked", "done"))
        self.assertTrue(m.status.de and m.status.en and m.status.de != m.status.en, m.status)
        w = phone.workshop(workshop)
        self.assertEqual([(b.title, b.duration_min, b.planned_start) for b in w.agenda],
                         [("Kollegiale Beratung", 40, "09:00")])

        # The tablet's observer heard of the phone's changes, from the bindings' threads.
        wait_for("remote change reported", lambda: any(remote for _, remote in recorder.changed))
        self.assertTrue(any(d == doc and remote for d, remote in recorder.changed))
        self.assertTrue(any(s.connection == nm.Connection.PAUSED for s in recorder.statuses))
        self.assertTrue(recorder.threads and all(t != threading.main_thread().name for t in recorder.threads),
                        recorder.threads)

        # A cancelled subscription hears nothing more.
        subscription.cancel()
        time.sleep(0.1)
        heard = len(recorder.changed)
        tablet.set_level(doc, "A2", 4)
        time.sleep(0.3)
        self.assertEqual(len(recorder.changed), heard)
        phone.stop()
        tablet.stop()

    def test_2_invalid_input_raises_the_error_type_with_its_message(self):
        phone = self.device("errors")
        doc = phone.create_assessment(self.hood, self.business, "T0", "en")
        with self.assertRaises(nm.MobileError.InvalidInput) as raised:
            phone.set_level(doc, "C2", 9)
        self.assertIn("level", str(raised.exception))
        with self.assertRaises(nm.MobileError.NotFound):
            phone.set_level(doc, "Z9", 1)
        with self.assertRaises(nm.MobileError.InvalidInput):
            phone.assessment("not a document id")
        with self.assertRaises(nm.MobileError.InvalidInput):
            phone.set_measure_status(doc, "m", "finished", "")
        with self.assertRaises(nm.MobileError.InvalidInput):
            phone.create_assessment(self.hood, self.business, "T0", "fr")
        with self.assertRaises(nm.MobileError.InvalidInput):
            nm.NachbarClient.open(os.path.join(self.dir.name, "x.sqlite3"), "ftp://nowhere", self.token, self.coach)
        self.assertEqual(phone.status().unacknowledged, 1, "nothing of the refused edits was kept")
        self.assertEqual(bytes(phone.export_document(doc))[:4], b"\x85\x6f\x4a\x83", "an Automerge file")
        with self.assertRaises(nm.MobileError.InvalidInput):
            phone.discard_document(doc)
        self.assertEqual((phone.status().undelivered, phone.status().set_aside), (0, []))

    def test_3_sign_out_wipes_the_database(self):
        path = os.path.join(self.dir.name, "wipe.sqlite3")
        client = nm.NachbarClient.open_for_tests(path, self.server.url, self.token, self.coach, 200)
        client.create_assessment(self.hood, self.business, "T0", "de")
        self.assertTrue(os.path.exists(path))
        client.sign_out_and_wipe()
        self.assertFalse(os.path.exists(path))
        with self.assertRaises(nm.MobileError.Closed):
            client.documents()

    def test_4_enrolment_turns_an_invite_code_into_a_token(self):
        import asyncio

        code = self.server.admin("invite", "--user", self.coach)
        token = asyncio.run(nm.enroll(self.server.url, code, "Python test"))
        self.assertTrue(len(token) > 20)
        with self.assertRaises(nm.MobileError.Unauthorized):
            asyncio.run(nm.enroll(self.server.url, code, "again"))


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    print(f"{result.testsRun - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
