import { describe, expect, it } from "vitest"
import { parseNexConfig } from "../../cli/src/config.ts"
import { parseDurationText, WorkloadConfig } from "../src/WorkloadConfig.ts"

const problemOf = (workloads: unknown): string => {
  const result = parseNexConfig({ workloads })
  if (result.success) throw new Error("expected the config to be rejected")
  return result.problem
}

describe("WorkloadConfig", () => {
  it("reads durations as text or milliseconds and leaves defaults to the deployment spec", () => {
    expect(WorkloadConfig.parse({ file: "a.ts", name: "a", triggers: ["a"], timeout: "1m30s", every: 250 })).toEqual({
      file: "a.ts",
      name: "a",
      triggers: ["a"],
      timeout: 90_000,
      every: 250,
      allowPublish: [],
      allowSubscribe: []
    })
    expect([parseDurationText("500ms"), parseDurationText("2h"), parseDurationText("1d"), parseDurationText("5"), parseDurationText("1.5s")]).toEqual([
      500,
      7_200_000,
      86_400_000,
      undefined,
      undefined
    ])
  })

  it("names the field of nex.config.ts that is wrong", () => {
    expect(problemOf([{ file: "a.ts", name: "a", memory: 4096 }])).toBe("workloads[0].memory: expected a number from 8 to 1024")
    expect(problemOf([{ file: "a.ts", name: "Not OK" }])).toBe("workloads[0].name: must be 1-63 characters of a-z, 0-9, '-' or '_', starting with a letter or digit")
    expect(problemOf([{ file: "a.ts", name: "a", timeout: "soon" }])).toBe('workloads[0].timeout: expected a duration like "500ms", "10s" or "1m30s", got "soon"')
    expect(problemOf([{ file: "a.ts", name: "a", cron: "every minute" }])).toBe(
      'workloads[0].cron: expected a cron expression of 5 fields (minute hour day-of-month month day-of-week), e.g. "*/5 * * * *"'
    )
    expect(problemOf([{ file: "a.ts", name: "a", every: "1m", cron: "* * * * *" }])).toBe("workloads[0].cron: give either every or cron, not both")
    expect(problemOf([{ file: "a.ts", name: "a", job: { filter: "orders.>" } }])).toBe("workloads[0].job.stream: is required")
    expect(problemOf([{ file: "a.ts", name: "a", triggers: "greet.*" }])).toBe('workloads[0].triggers: expected an array, got the string "greet.*"')
    expect(problemOf([{ file: "a.ts", name: "a", trigger: ["x"] }])).toBe("workloads[0].trigger: unknown field")
    expect(problemOf([{ file: "a.ts", name: "a" }, { file: "b.ts", name: "a" }])).toBe('workloads[1].name: the name "a" is used twice')
  })
})
