// The automerge-repo JS client (npm, pinned) against a nachbar server, driven by the Rust
// interop tests. Every command prints one JSON line on stdout and exits 0 on success.
//
//   node interop.mjs create <ws-url> <json>          create a document, wait until the server has it
//   node interop.mjs read   <ws-url> <automerge-url> print the document (or {"unavailable":true})
//   node interop.mjs edit   <ws-url> <automerge-url> <key> <value>
//                                                     change one key, wait until the server has it
//   node interop.mjs gossip <ws-url>                 remote-heads gossip: repo B follows repo A's
//                                                     storage id and learns A's heads of a shared
//                                                     document through the server
//
// "The server has it" is checked with a second, fresh repo that finds the document through the
// server alone and sees the same content.
import { Repo } from "@automerge/automerge-repo"
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"

const [command, url, ...args] = process.argv.slice(2)
const DEADLINE_MS = 30_000

function repo(label, options = {}) {
  return new Repo({
    network: [new WebSocketClientAdapter(url)],
    peerId: `interop-${label}-${Math.random().toString(36).slice(2)}`,
    sharePolicy: async () => true,
    ...options,
  })
}

/** Storage in memory: enough for a repo to have a storage id and count as durable. */
class MemoryStorage {
  #data = new Map()
  #key = key => key.join("\u0000")
  async load(key) { return this.#data.get(this.#key(key)) }
  async save(key, value) { this.#data.set(this.#key(key), value) }
  async remove(key) { this.#data.delete(this.#key(key)) }
  async loadRange(prefix) {
    const p = this.#key(prefix)
    return [...this.#data].filter(([k]) => k.startsWith(p)).map(([k, data]) => ({ key: k.split("\u0000"), data }))
  }
  async removeRange(prefix) {
    const p = this.#key(prefix)
    for (const k of [...this.#data.keys()]) if (k.startsWith(p)) this.#data.delete(k)
  }
}

/** A repo with storage and remote-heads gossip on. */
function gossipingRepo(label) {
  return repo(label, { storage: new MemoryStorage(), enableRemoteHeadsGossiping: true })
}

/** B follows A's storage and must learn A's heads of a document both have open. */
async function gossip() {
  const a = gossipingRepo("phone-a")
  const b = gossipingRepo("tablet-b")
  try {
    const handleA = a.create({ title: "Klatsch" })
    await waitForServer(handleA.url, doc => doc.title === "Klatsch")
    const storageA = await a.storageId()
    const handleB = await withTimeout(b.find(handleA.url), "find on b")
    const server = Object.values(b.peerMetadataByPeerId).find(m => m.storageId)?.storageId
    if (!server) throw new Error("the server announced no storage id")
    b.subscribeToRemotes([storageA, server])
    const seen = []
    const heardOf = storage => new Promise(resolve => {
      handleB.on("remote-heads", ({ storageId, heads }) => {
        seen.push({ storageId, heads })
        if (storageId === storage && JSON.stringify(heads) === JSON.stringify(handleA.heads())) {
          resolve(heads)
        }
      })
    })
    const fromA = heardOf(storageA)
    const fromServer = heardOf(server)
    handleA.change(d => { d.status = "gesehen" })
    const why = () => `seen: ${JSON.stringify(seen)}`
    const heads = await withTimeout(fromA, `A's heads on B (${why()})`)
    const serverHeads = await withTimeout(fromServer, `the server's heads on B (${why()})`)
    return { storage: storageA, heads, serverHeads, expected: handleA.heads() }
  } finally {
    a.shutdown()
    b.shutdown()
  }
}

function withTimeout(promise, what) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`timeout: ${what}`)), DEADLINE_MS)),
  ])
}

async function read(docUrl) {
  const r = repo("reader")
  try {
    const handle = await withTimeout(r.find(docUrl), "find")
    return handle.doc()
  } catch (e) {
    if (String(e?.message ?? e).includes("unavailable")) return { unavailable: true }
    throw e
  } finally {
    r.shutdown()
  }
}

/** Polls a fresh repo until it sees `check(doc)` true. */
async function waitForServer(docUrl, check) {
  const start = Date.now()
  let last = "no read finished"
  let reads = 0
  while (Date.now() - start < DEADLINE_MS) {
    reads += 1
    const doc = await read(docUrl).catch(e => { last = `error: ${e?.message ?? e}`; return null })
    if (doc && !doc.unavailable && check(doc)) return doc
    if (doc) last = JSON.stringify(doc)
    await new Promise(r => setTimeout(r, 200))
  }
  throw new Error(`the server never had the document (${reads} reads in ${Date.now() - start} ms; last: ${last})`)
}

async function main() {
  if (command === "create") {
    const content = JSON.parse(args[0])
    const r = repo("writer")
    const handle = r.create(content)
    await waitForServer(handle.url, doc => JSON.stringify(doc) === JSON.stringify(content))
    console.log(JSON.stringify({ url: handle.url }))
    r.shutdown()
  } else if (command === "read") {
    console.log(JSON.stringify(await read(args[0])))
  } else if (command === "edit") {
    const [docUrl, key, value] = args
    const r = repo("editor")
    const handle = await withTimeout(r.find(docUrl), "find")
    handle.change(d => { d[key] = value })
    const doc = await waitForServer(docUrl, d => d[key] === value)
    console.log(JSON.stringify(doc))
    r.shutdown()
  } else if (command === "gossip") {
    console.log(JSON.stringify(await gossip()))
  } else {
    throw new Error(`unknown command ${command}`)
  }
}

main().then(
  () => process.exit(0),
  e => { console.error(String(e?.stack ?? e)); process.exit(1) },
)
