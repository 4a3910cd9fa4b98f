import { createHash, randomBytes } from "node:crypto"
import { createReadStream, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { jetstream, jetstreamManager } from "@nats-io/jetstream"
import { Objm } from "@nats-io/obj"
import { connect, headers } from "@nats-io/transport-node"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { buildCli } from "../../scripts/build-cli.ts"
import { eventually, startNatsServer, useTarget, tempDir } from "../support/index.ts"
import { jetStreamTargets } from "../support/jetstreamTargets.ts"
import { type CommandResult, expectOneErrorLine, killNatsCommands, startNatsCommand, succeeded } from "../support/natsCommand.ts"

// Times and ages change from run to run; everything else is compared exactly. Times keep the
// width of a UTC one so that table columns stay aligned.
const rfc3339 = "<rfc3339>".padEnd(20)
const normalised = (text: string): string =>
  text
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)/g, rfc3339)
    .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/g, "<time>".padEnd(19))
    .replace(/\b\d+(\.\d+)?(ms|µs|s)\b/g, "<age>")

interface Finished extends CommandResult {
  /** The command's peak resident set size (VmHWM) in bytes, as last read before it exited. */
  readonly peakRss: number
}

const highWaterMark = (pid: number): number | undefined => {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
    return match === null ? undefined : Number(match[1]) * 1024
  } catch {
    return undefined
  }
}

interface Running {
  readonly stdout: () => string
  readonly finished: Promise<Finished>
}

/**
 * Starts `nats ARGS` in `cwd` with stdin not a terminal (closed, or fed `input`), sampling its peak
 * RSS every 10 ms; a command still running after `timeout` ms is killed (code null).
 */
const startIn = (cwd: string, args: ReadonlyArray<string>, options: { readonly input?: string; readonly timeout?: number } = {}): Running => {
  const command = startNatsCommand(args, { cwd, input: options.input, timeout: options.timeout ?? 15_000 })
  let peakRss = 0
  const sampler = setInterval(() => (peakRss = highWaterMark(command.child.pid!) ?? peakRss), 10)
  const finished = command.finished.then((result) => {
    clearInterval(sampler)
    return { ...result, peakRss }
  })
  return { stdout: command.stdout, finished }
}

const runIn = (cwd: string, args: ReadonlyArray<string>, options: { readonly input?: string; readonly timeout?: number } = {}): Promise<Finished> =>
  startIn(cwd, args, options).finished

const sha256Hex = (data: Buffer): string => createHash("sha256").update(data).digest("hex")

const fileSha256Hex = async (path: string): Promise<string> => {
  const hash = createHash("sha256")
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest("hex")
}

const bucketReport = (bucket: string, rows: ReadonlyArray<string>): string =>
  [`Information for Object Store Bucket ${bucket} created ${rfc3339}`, "", "Configuration:", "", ...rows, ""].join("\n")

const emptyBucketRows = (bucket: string, size: string, sealed = false): Array<string> => [
  `          Bucket Name: ${bucket}`,
  "             Replicas: 1",
  "                  TTL: unlimited",
  `               Sealed: ${sealed}`,
  `                 Size: ${size}`,
  "  Maximum Bucket Size: unlimited",
  "              Storage: File",
  "   Backing Store Kind: JetStream",
  `     JetStream Stream: OBJ_${bucket}`
]

const mebibyte = 1024 * 1024
// Node frees transferred buffers only when V8's external-memory threshold (about 64 MB) triggers a
// collection, so a streaming transfer grows RSS by up to that much whatever the object's size; an
// object twice that size separates streaming (bounded growth) from holding the object in memory.
const largeObjectSize = 128 * mebibyte

beforeAll(() => buildCli(), 60_000)
afterEach(killNatsCommands)

describe.each(jetStreamTargets())("nats object against $name", (target) => {
  const server = useTarget(target)
  const upload = tempDir("nats-object-upload-")
  const download = tempDir("nats-object-download-")
  const logo = Buffer.concat([Buffer.from("\x89PNG\r\n\x1a\n", "binary"), randomBytes(3000)])

  beforeAll(() => {
    writeFileSync(join(upload.path, "logo.png"), logo)
  })

  afterAll(() => {
    upload.remove()
    download.remove()
  })

  const natsIn = (cwd: string, ...args: Array<string>): Promise<Finished> => runIn(cwd, ["-s", server().url, ...args])
  const nats = (...args: Array<string>): Promise<Finished> => natsIn(download.path, ...args)

  it("runs the seed commands verbatim: add, put, ls, get, del", async () => {
    expect(normalised(succeeded(await nats("object", "add", "assets")).stdout)).toBe(bucketReport("assets", emptyBucketRows("assets", "0 B")))

    const put = succeeded(await natsIn(upload.path, "object", "put", "assets", "./logo.png"))
    expect(normalised(put.stdout)).toBe(
      [
        "",
        "Object information for assets > logo.png",
        "",
        "               Size: 2.9 KiB",
        "  Modification Time: <time>             ",
        "             Chunks: 1",
        `             Digest: SHA-256 ${sha256Hex(logo)}`,
        ""
      ].join("\n")
    )

    expect(normalised(succeeded(await nats("object", "ls", "assets")).stdout)).toBe(
      [
        "╭───────────────────────────────────────────╮",
        "│              Bucket Contents              │",
        "├──────────┬─────────┬──────────────────────┤",
        "│ Name     │ Size    │ Time                 │",
        "├──────────┼─────────┼──────────────────────┤",
        `│ logo.png │ 2.9 KiB │ ${rfc3339} │`,
        "╰──────────┴─────────┴──────────────────────╯",
        "",
        ""
      ].join("\n")
    )

    const got = succeeded(await nats("object", "get", "assets", "logo.png"))
    expect(normalised(got.stdout)).toBe(`Wrote: 2.9 KiB to ${join(download.path, "logo.png")} in <age>\n`)
    expect(readFileSync(join(download.path, "logo.png")).equals(logo)).toBe(true)

    const deleted = succeeded(await nats("object", "del", "assets", "logo.png"))
    expect(normalised(deleted.stdout)).toMatch(/^Removed assets > logo\.png\nInformation for Object Store Bucket assets created <rfc3339> +\n/)
    expect(succeeded(await nats("object", "ls", "assets")).stdout).toBe("No entries found\n")
    expectOneErrorLine(await nats("object", "get", "assets", "logo.png", "-f"), "nats: object not found")
  })

  it("get writes where --output says, and never overwrites a file without --force", async () => {
    succeeded(await natsIn(upload.path, "object", "put", "assets", "./logo.png"))
    const existing = join(download.path, "logo.png")
    writeFileSync(existing, "keep me")
    expectOneErrorLine(
      await nats("object", "get", "assets", "logo.png"),
      `nats: will not overwrite ${existing} without confirmation: pass --force (-f) when stdin is not a terminal`
    )
    expect(readFileSync(existing, "utf8")).toBe("keep me")
    succeeded(await nats("object", "get", "assets", "logo.png", "-f"))
    expect(readFileSync(existing).equals(logo)).toBe(true)
    const elsewhere = join(download.path, "copy.bin")
    expect(normalised(succeeded(await nats("object", "get", "assets", "logo.png", "--output", "copy.bin")).stdout)).toBe(`Wrote: 2.9 KiB to ${elsewhere} in <age>\n`)
    expect(readFileSync(elsewhere).equals(logo)).toBe(true)
    const nowhere = join(download.path, "missing", "logo.png")
    expectOneErrorLine(await nats("object", "get", "assets", "logo.png", "--output", nowhere), `nats: cannot write ${nowhere}: no such directory`)
    // Nothing but the two files written: no partial download is left behind.
    expect(readdirSync(download.path).sort()).toEqual(["copy.bin", "logo.png"])
  })

  it("put reads stdin under --name, asks before replacing, and info describes buckets and objects", async () => {
    expectOneErrorLine(await nats("object", "put", "assets"), "nats: --name is required when reading from stdin")
    expectOneErrorLine(await nats("object", "put", "assets", "./missing.png"), 'nats: file "./missing.png" does not exist')
    const piped = succeeded(await runIn(download.path, ["-s", server().url, "object", "put", "assets", "--name", "notes/readme.txt", "--description", "read me"], { input: "hello objects\n" }))
    expect(normalised(piped.stdout)).toBe(
      [
        "",
        "Object information for assets > notes/readme.txt",
        "",
        "        Description: read me",
        "               Size: 14 B",
        "  Modification Time: <time>             ",
        "             Chunks: 1",
        `             Digest: SHA-256 ${sha256Hex(Buffer.from("hello objects\n"))}`,
        ""
      ].join("\n")
    )
    const empty = succeeded(await runIn(download.path, ["-s", server().url, "object", "put", "assets", "--name", "empty.txt"], { input: "" }))
    expect(empty.stdout).toContain("               Size: 0 B\n")
    expect(empty.stdout).toContain("             Chunks: 0\n")
    succeeded(await nats("object", "get", "assets", "empty.txt"))
    expect(readFileSync(join(download.path, "empty.txt"), "utf8")).toBe("")
    succeeded(await nats("object", "del", "assets", "empty.txt"))
    expectOneErrorLine(
      await natsIn(upload.path, "object", "put", "assets", "./logo.png"),
      "nats: will not replace existing object assets > logo.png without confirmation: pass --force (-f) when stdin is not a terminal"
    )
    succeeded(await natsIn(upload.path, "object", "put", "assets", "./logo.png", "-f"))
    succeeded(await nats("object", "get", "assets", "notes/readme.txt"))
    expect(readFileSync(join(download.path, "readme.txt"), "utf8")).toBe("hello objects\n")

    expect(normalised(succeeded(await nats("object", "info", "assets", "notes/readme.txt")).stdout)).toContain("        Description: read me\n")
    expect(normalised(succeeded(await nats("object", "info", "assets")).stdout)).toMatch(/^Information for Object Store Bucket assets created <rfc3339> +\n\nConfiguration:\n\n +Bucket Name: assets\n/)
    expectOneErrorLine(await nats("object", "info", "assets", "nothing"), "nats: object not found")
    const names = succeeded(await nats("object", "ls", "assets", "--names")).stdout
    expect(names.split("\n").sort()).toEqual(["", "logo.png", "notes/readme.txt"])
  })

  it("watch shows current objects then changes, deletes included", async () => {
    const watching = startIn(download.path, ["-s", server().url, "object", "watch", "assets", "--count", "5"])
    // The current objects first (the deleted empty.txt among them), then the delete and the put
    // made once they are shown.
    await eventually(() => expect(watching.stdout().split("\n")).toHaveLength(4), { timeout: 10_000 })
    succeeded(await nats("object", "del", "assets", "notes/readme.txt"))
    succeeded(await natsIn(upload.path, "object", "put", "assets", "./logo.png", "--name", "second.png"))
    const watched = normalised((await watching.finished).stdout).split("\n")
    expect(watched).toContain("[<time>             ] PUT assets > logo.png: 2.9 KiB bytes in 1 chunks")
    expect(watched).toContain("[<time>             ] DEL assets > empty.txt")
    expect(watched).toContain("[<time>             ] DEL assets > notes/readme.txt")
    expect(watched.at(-2)).toBe("[<time>             ] PUT assets > second.png: 2.9 KiB bytes in 1 chunks")
  })

  it("get follows links and fails clearly, writing nothing, when the data does not match the digest", async () => {
    const connection = await connect({ servers: server().url })
    try {
      const store = await new Objm(connection).open("assets")
      await store.link("alias.png", (await store.info("logo.png"))!)
      const tampered = await store.putBlob({ name: "tampered.bin" }, Buffer.from("the real content"))
      // Rewrite the object's meta with the digest of other data, as a corrupted store would hold it.
      const encoded = Buffer.from("tampered.bin").toString("base64url")
      const metaSubject = `$O.assets.M.${encoded.padEnd(Math.ceil(encoded.length / 4) * 4, "=")}`
      const stored = await (await jetstreamManager(connection)).streams.getMessage("OBJ_assets", { last_by_subj: metaSubject })
      const meta = { ...stored!.json<Record<string, unknown>>(), digest: `SHA-256=${createHash("sha256").update("other content").digest("base64url")}=` }
      const rollup = headers()
      rollup.set("Nats-Rollup", "sub")
      await jetstream(connection).publish(metaSubject, JSON.stringify(meta), { headers: rollup })
      expect(tampered.size).toBe(16)
    } finally {
      await connection.close()
    }

    succeeded(await nats("object", "get", "assets", "alias.png", "--output", "via-link.png"))
    expect(readFileSync(join(download.path, "via-link.png")).equals(logo)).toBe(true)
    expect(normalised(succeeded(await nats("object", "info", "assets", "alias.png")).stdout)).toContain("               Link: assets > logo.png\n")

    expectOneErrorLine(
      await nats("object", "get", "assets", "tampered.bin"),
      `nats: assets > tampered.bin failed its digest check: expected SHA-256 ${sha256Hex(Buffer.from("other content"))}, received SHA-256 ${sha256Hex(Buffer.from("the real content"))}`
    )
    expect(existsSync(join(download.path, "tampered.bin"))).toBe(false)
    expect(readdirSync(download.path).filter((name) => name.includes("partial"))).toEqual([])
  })

  it(`streams a ${largeObjectSize / mebibyte} MiB object both ways with progress lines and bounded memory`, async () => {
    const big = join(upload.path, "big.bin")
    writeFileSync(big, randomBytes(largeObjectSize))
    succeeded(await nats("object", "add", "large"))
    const smallPut = succeeded(await natsIn(upload.path, "object", "put", "large", "./logo.png"))
    const smallGet = succeeded(await nats("object", "get", "large", "logo.png", "-f"))

    const put = await natsIn(upload.path, "object", "put", "large", "./big.bin", "--timeout", "30s")
    expect(put.code).toBe(0)
    expect(put.stdout).toContain("             Chunks: 1,024\n")
    expect(put.stderr).toMatch(/^(big\.bin: \d+(\.\d)? [KM]iB of 128 MiB \(\d+%\)\n)*big\.bin: 128 MiB of 128 MiB \(100%\)\n$/)

    const got = await natsIn(download.path, "object", "get", "large", "big.bin", "--timeout", "30s")
    expect(got.code).toBe(0)
    expect(got.stderr).toMatch(/^(big\.bin: \d+(\.\d)? [KM]iB of 128 MiB \(\d+%\)\n)*big\.bin: 128 MiB of 128 MiB \(100%\)\n$/)
    expect(await fileSha256Hex(join(download.path, "big.bin"))).toBe(await fileSha256Hex(big))
    expect(succeeded(await nats("object", "get", "large", "big.bin", "-f", "--no-progress")).stderr).toBe("")

    // Growth over the same command moving 3 KiB stays well below the object's size.
    const growth = (large: Finished, small: Finished): string => `${((large.peakRss - small.peakRss) / mebibyte).toFixed(0)} MiB`
    expect(put.peakRss - smallPut.peakRss, `put grew the CLI's RSS by ${growth(put, smallPut)}`).toBeLessThan(largeObjectSize * 0.75)
    expect(got.peakRss - smallGet.peakRss, `get grew the CLI's RSS by ${growth(got, smallGet)}`).toBeLessThan(largeObjectSize * 0.75)
  }, 120_000)

  it("seal needs --force, then the bucket refuses changes; rm needs --force, then the bucket is gone", async () => {
    expectOneErrorLine(await nats("object", "seal", "assets"), "nats: will not seal bucket assets without confirmation: pass --force (-f) when stdin is not a terminal")
    const sealed = succeeded(await nats("object", "seal", "assets", "-f"))
    expect(normalised(sealed.stdout)).toMatch(/^assets has been sealed\nInformation for Object Store Bucket assets created <rfc3339> +\n/)
    expect(sealed.stdout).toContain("               Sealed: true\n")
    expectOneErrorLine(await natsIn(upload.path, "object", "put", "assets", "./logo.png", "--name", "late.png"), "nats: invalid operation on sealed stream")

    const listed = normalised(succeeded(await nats("object", "ls")).stdout).split("\n")
    expect(listed[3]).toMatch(/^│ Bucket +│ Description │ Created +│ Size +│ Last Update │$/)
    expect(listed.filter((line) => /^│ (assets|large) /.test(line))).toHaveLength(2)

    expectOneErrorLine(await nats("object", "rm", "assets"), "nats: will not delete bucket assets and all its files without confirmation: pass --force (-f) when stdin is not a terminal")
    expect(succeeded(await nats("object", "rm", "assets", "-f")).stdout).toBe("")
    expect(succeeded(await nats("object", "rm", "large", "-f")).stdout).toBe("")
    for (const args of [["ls", "assets"], ["get", "assets", "logo.png"], ["info", "assets"], ["rm", "assets", "-f"]]) {
      expectOneErrorLine(await nats("object", ...args), "nats: bucket not found")
    }
    expect(succeeded(await nats("object", "ls")).stdout).toBe("No Object Store buckets found\n")
  })
})

describe("nats object: input errors and servers without JetStream", () => {
  const here = tempDir("nats-object-input-")
  afterAll(() => here.remove())

  it.each([
    [["object", "add", "my.bucket"], 'nats: invalid bucket name "my.bucket": expected letters, digits, - and _ only'],
    [["object", "add", "b", "--max-bucket-size", "lots"], 'nats: invalid size "lots" for --max-bucket-size: expected e.g. 512, 1KB, 10MiB or 1GB, or -1 for unlimited'],
    [["object", "put", "b"], "nats: --name is required when reading from stdin"],
    [["object", "put", "b", "."], 'nats: "." is not a file'],
    [["object", "get", "b"], "nats: missing NAME (usage: nats object get BUCKET NAME [flags])"],
    [["obj", "frob"], 'nats: unknown command "frob" for nats object (try nats object --help)']
  ])("%j: bad input is one line, exit code 1", async (args, line) => {
    expectOneErrorLine(await runIn(here.path, ["-s", "nats://127.0.0.1:1", ...args]), line)
  })

  it("says JetStream is not enabled when the server has none", async () => {
    const plain = await startNatsServer()
    try {
      for (const args of [["object", "ls"], ["object", "add", "assets"], ["object", "get", "assets", "logo.png"]]) {
        expectOneErrorLine(await runIn(here.path, ["-s", plain.url, ...args]), "nats: JetStream is not enabled on the server")
      }
    } finally {
      await plain.stop()
    }
  })
})
