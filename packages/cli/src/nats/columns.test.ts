import { describe, expect, it } from "vitest"
import { Columns } from "./columns.ts"
import { renderTable } from "./table.ts"

describe("Columns", () => {
  it("right-aligns every label across sections, as natscli's report writer does", () => {
    const text = new Columns("Information for Stream S")
      .row("Subjects", ["a.>", "b"])
      .row("Replicas", 1)
      .section("Limits")
      .row("Maximum Messages", 1000)
      .row("Allows Purge", true)
      .line()
      .section("State")
      .row("", "continued")
      .render()
    expect(text).toBe(
      [
        "Information for Stream S",
        "",
        "          Subjects: a.>, b",
        "          Replicas: 1",
        "",
        "Limits:",
        "",
        "  Maximum Messages: 1,000",
        "      Allows Purge: true",
        "",
        "State:",
        "",
        "                    continued",
        ""
      ].join("\n")
    )
  })
})

describe("renderTable", () => {
  it("draws go-pretty's rounded box with a centred title and aligned cells", () => {
    const text = renderTable("Things", [{ header: "Name" }, { header: "Count", align: "right" }], [["alpha", "1"], ["b", "1,000"]])
    expect(text).toBe(
      [
        "╭───────────────╮",
        "│     Things    │",
        "├───────┬───────┤",
        "│ Name  │ Count │",
        "├───────┼───────┤",
        "│ alpha │     1 │",
        "│ b     │ 1,000 │",
        "╰───────┴───────╯",
        ""
      ].join("\n")
    )
  })
})
