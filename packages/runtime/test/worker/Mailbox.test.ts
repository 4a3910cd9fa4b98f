import { describe, expect, it } from "vitest"
import { Mailbox } from "../../src/worker/Mailbox.ts"

interface Item {
  readonly id: number
  readonly serialKey?: string
}

const takeAll = (mailbox: Mailbox<Item>): Item[] => {
  const taken: Item[] = []
  for (let item = mailbox.take(); item !== undefined; item = mailbox.take()) taken.push(item)
  return taken
}

describe("Mailbox", () => {
  it("is a bounded FIFO; forced items bypass the bound", () => {
    const mailbox = new Mailbox<Item>(2)
    expect(mailbox.offer({ id: 1 })).toBe(true)
    expect(mailbox.offer({ id: 2 })).toBe(true)
    expect(mailbox.offer({ id: 3 })).toBe(false)
    expect(mailbox.offer({ id: 4 }, true)).toBe(true)
    expect(mailbox.size).toBe(3)
    expect(takeAll(mailbox).map((item) => item.id)).toEqual([1, 2, 4])
    expect(mailbox.size).toBe(0)
  })

  it("runs items of one key one at a time, in order, while other keys pass", () => {
    const mailbox = new Mailbox<Item>(10)
    for (const [id, serialKey] of [[1, "a"], [2, "a"], [3, "b"], [4, "a"], [5, undefined]] as const) mailbox.offer({ id, serialKey })
    const first = takeAll(mailbox)
    expect(first.map((item) => item.id)).toEqual([1, 3, 5])
    expect(mailbox.size).toBe(2)
    mailbox.release(first[1])
    expect(mailbox.take()).toBeUndefined()
    mailbox.release(first[0])
    const second = takeAll(mailbox)
    expect(second.map((item) => item.id)).toEqual([2])
    mailbox.offer({ id: 6, serialKey: "a" })
    expect(takeAll(mailbox)).toEqual([])
    mailbox.release(second[0])
    const third = takeAll(mailbox)
    expect(third.map((item) => item.id)).toEqual([4])
    mailbox.release(third[0])
    expect(takeAll(mailbox).map((item) => item.id)).toEqual([6])
    expect(mailbox.size).toBe(0)
  })

  it("drains queued and waiting items", () => {
    const mailbox = new Mailbox<Item>(10)
    for (const id of [1, 2, 3]) mailbox.offer({ id, serialKey: "k" })
    mailbox.take()
    mailbox.take()
    expect(mailbox.drain().map((item) => item.id).sort()).toEqual([2, 3])
    expect(mailbox.size).toBe(0)
  })

  it("keeps its order across many items (compaction)", () => {
    const mailbox = new Mailbox<Item>(10_000)
    for (let id = 0; id < 5000; id++) mailbox.offer({ id })
    const taken = takeAll(mailbox).map((item) => item.id)
    expect(taken).toEqual(Array.from({ length: 5000 }, (_, index) => index))
  })
})
