import { describe, expect, it } from "vitest"
import { transferProgress } from "./progress.ts"

const recorder = (terminal: boolean) => {
  let clock = 0
  const written: Array<string> = []
  return {
    written,
    tick: (milliseconds: number) => void (clock += milliseconds),
    options: { enabled: true, terminal, write: (text: string) => void written.push(text), now: () => clock }
  }
}

describe("transferProgress", () => {
  it("prints a percentage line at most once a second without a terminal, and one at the end", () => {
    const { written, tick, options } = recorder(false)
    const progress = transferProgress("logo.png", 4 * 1024 * 1024, options)
    for (let step = 0; step < 8; step++) {
      tick(400)
      progress.advance(512 * 1024)
    }
    progress.finish()
    expect(written).toEqual([
      "logo.png: 1.5 MiB of 4.0 MiB (37%)\n",
      "logo.png: 3.0 MiB of 4.0 MiB (75%)\n",
      "logo.png: 4.0 MiB of 4.0 MiB (100%)\n"
    ])
  })

  it("stays quiet for small objects without a terminal, unknown sizes and --no-progress", () => {
    const { written, options } = recorder(false)
    for (const progress of [
      transferProgress("small", 1000, options),
      transferProgress("stdin", undefined, options),
      transferProgress("off", 64 * 1024 * 1024, { ...options, enabled: false })
    ]) {
      progress.advance(1000)
      progress.finish()
    }
    expect(written).toEqual([])
  })

  it("redraws a bar on a terminal and ends it with a newline", () => {
    const { written, tick, options } = recorder(true)
    const progress = transferProgress("logo.png", 100 * 1024, options)
    progress.advance(50 * 1024)
    progress.advance(10 * 1024)
    tick(100)
    progress.advance(40 * 1024)
    progress.finish()
    expect(written).toEqual([
      `\rlogo.png [${"#".repeat(15)}${".".repeat(15)}]  50% 50 KiB / 100 KiB`,
      `\rlogo.png [${"#".repeat(30)}] 100% 100 KiB / 100 KiB`,
      `\rlogo.png [${"#".repeat(30)}] 100% 100 KiB / 100 KiB`,
      "\n"
    ])
  })
})
