import { describe, expect, it } from "vitest"
import { compileFilter } from "./SubjectFilter.ts"
import { matchVerdict, noMatchVerdict, SubjectTable, unknownVerdict } from "./SubjectTable.ts"

const intern = (table: SubjectTable, subject: string): number => table.intern(table.scratch, 0, table.encode(subject))

describe("SubjectTable", () => {
  it("interns subjects to stable ids and finds them again", () => {
    const table = new SubjectTable()
    const a = intern(table, "orders.new")
    const b = intern(table, "orders.paid")
    expect(a).toBeGreaterThan(0)
    expect(b).not.toBe(a)
    expect(intern(table, "orders.new")).toBe(a)
    expect(table.idOf("orders.paid")).toBe(b)
    expect(table.idOf("orders.missing")).toBe(0)
    expect(table.name(a)).toBe("orders.new")
    expect(table.live).toBe(2)
  })

  it("encodes non-ASCII subjects as UTF-8", () => {
    const table = new SubjectTable()
    const id = intern(table, "früh.主题")
    expect(table.name(id)).toBe("früh.主题")
    expect(table.nameBytes(id).length).toBe(Buffer.byteLength("früh.主题"))
    expect(table.idOf("früh.主题")).toBe(id)
  })

  it("survives growth, releases, id reuse and arena compaction", () => {
    const table = new SubjectTable()
    const count = 120_000
    const ids: number[] = []
    for (let index = 0; index < count; index++) ids.push(intern(table, `sensor.${index}.temperature`))
    for (let index = 0; index < count; index++) expect(table.idOf(`sensor.${index}.temperature`)).toBe(ids[index])
    for (let index = 0; index < count; index++) if (index % 5 !== 0) table.release(ids[index])
    expect(table.live).toBe(count / 5)
    for (let index = 0; index < count; index++) {
      const expected = index % 5 === 0 ? ids[index] : 0
      expect(table.idOf(`sensor.${index}.temperature`)).toBe(expected)
    }
    for (let index = 0; index < count; index += 5) expect(table.name(ids[index])).toBe(`sensor.${index}.temperature`)
    const reused = intern(table, "fresh.subject")
    expect(ids).toContain(reused)
    expect(table.name(reused)).toBe("fresh.subject")
    expect(table.idLimit).toBe(count + 1)
  })

  it("caches filter verdicts per id and forgets them when an id is reused", () => {
    const table = new SubjectTable()
    const filter = compileFilter("a.*")
    const a = intern(table, "a.1")
    const b = intern(table, "b.1")
    const verdicts = table.verdicts(filter)
    expect(verdicts[0]).toBe(noMatchVerdict)
    expect(verdicts[a]).toBe(unknownVerdict)
    expect(table.resolve(filter, verdicts, a)).toBe(matchVerdict)
    expect(table.resolve(filter, verdicts, b)).toBe(noMatchVerdict)
    expect(table.verdicts(filter)[a]).toBe(matchVerdict)
    table.release(a)
    const reused = intern(table, "c.1")
    expect(reused).toBe(a)
    expect(table.verdicts(filter)[reused]).toBe(unknownVerdict)
  })

  it("costs well under 100 bytes per subject", () => {
    const table = new SubjectTable()
    for (let index = 0; index < 300_000; index++) intern(table, `sensor.${index.toString().padStart(7, "0")}.temp`)
    expect(table.footprint / 300_000).toBeLessThan(90)
  })
})
