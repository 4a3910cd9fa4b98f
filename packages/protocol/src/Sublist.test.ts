import { describe, expect, it } from "vitest"
import { subjectMatches } from "./Subject.ts"
import { type MatchResult, Sublist } from "./Sublist.ts"

class TestSubscriber {
  readonly subject: string
  readonly queue: string | undefined
  readonly name: string
  constructor(name: string, subject: string, queue?: string) {
    this.name = name
    this.subject = subject
    this.queue = queue
  }
}

const plainNames = (result: MatchResult<TestSubscriber>): string[] => result.plain.map((subscriber) => subscriber.name).sort()

/** Queue groups as sorted member names, groups sorted by their first member. */
const queueNames = (result: MatchResult<TestSubscriber>): string[][] =>
  result.queues.map((group) => group.map((subscriber) => subscriber.name).sort()).sort((a, b) => a[0].localeCompare(b[0]))

const sublistWith = (...subscribers: TestSubscriber[]): Sublist<TestSubscriber> => {
  const sublist = new Sublist<TestSubscriber>()
  for (const subscriber of subscribers) sublist.insert(subscriber)
  return sublist
}

describe("Sublist matching", () => {
  it("matches literal subjects exactly", () => {
    const sublist = sublistWith(new TestSubscriber("a", "foo.bar"), new TestSubscriber("b", "foo"), new TestSubscriber("c", "foo.bar.baz"))
    expect(plainNames(sublist.match("foo.bar"))).toEqual(["a"])
    expect(plainNames(sublist.match("foo"))).toEqual(["b"])
    expect(plainNames(sublist.match("foo.baz"))).toEqual([])
  })

  it("matches * against exactly one token", () => {
    const sublist = sublistWith(new TestSubscriber("star", "foo.*"), new TestSubscriber("middle", "a.*.c"))
    expect(plainNames(sublist.match("foo.bar"))).toEqual(["star"])
    expect(plainNames(sublist.match("foo"))).toEqual([])
    expect(plainNames(sublist.match("foo.bar.baz"))).toEqual([])
    expect(plainNames(sublist.match("a.b.c"))).toEqual(["middle"])
    expect(plainNames(sublist.match("a.b.d"))).toEqual([])
  })

  it("matches > against one or more trailing tokens", () => {
    const sublist = sublistWith(new TestSubscriber("tail", "foo.>"), new TestSubscriber("all", ">"))
    expect(plainNames(sublist.match("foo"))).toEqual(["all"])
    expect(plainNames(sublist.match("foo.bar"))).toEqual(["all", "tail"])
    expect(plainNames(sublist.match("foo.bar.baz"))).toEqual(["all", "tail"])
  })

  it("returns one entry per matching subscription when patterns mix", () => {
    const sublist = sublistWith(
      new TestSubscriber("literal", "foo.bar"),
      new TestSubscriber("star", "foo.*"),
      new TestSubscriber("tail", "foo.>"),
      new TestSubscriber("both", "*.>"),
      new TestSubscriber("other", "bar.*")
    )
    expect(plainNames(sublist.match("foo.bar"))).toEqual(["both", "literal", "star", "tail"])
    expect(plainNames(sublist.match("bar.x"))).toEqual(["both", "other"])
  })

  it("takes published wildcard tokens literally, matching them like any token", () => {
    const sublist = sublistWith(new TestSubscriber("star", "foo.*"), new TestSubscriber("literal", "foo.bar"))
    expect(plainNames(sublist.match("foo.*"))).toEqual(["star"])
  })

  it("groups queue subscribers by queue name across patterns, apart from plain ones", () => {
    const sublist = sublistWith(
      new TestSubscriber("plain", "orders.new"),
      new TestSubscriber("w1", "orders.new", "workers"),
      new TestSubscriber("w2", "orders.*", "workers"),
      new TestSubscriber("w3", "orders.>", "workers"),
      new TestSubscriber("a1", "orders.new", "audit"),
      new TestSubscriber("x1", "orders.old", "workers")
    )
    const result = sublist.match("orders.new")
    expect(plainNames(result)).toEqual(["plain"])
    expect(queueNames(result)).toEqual([["a1"], ["w1", "w2", "w3"]])
  })

  it("answers hasInterest like match", () => {
    const sublist = sublistWith(new TestSubscriber("q", "a.*", "g"), new TestSubscriber("p", "b.>"))
    for (const subject of ["a.x", "a", "a.x.y", "b", "b.c", "b.c.d", "c"]) {
      const result = sublist.match(subject)
      const expected = result.plain.length + result.queues.length > 0
      expect(new Sublist<TestSubscriber>().hasInterest(subject)).toBe(false)
      expect(sublistWith(...sublist.subscribers()).hasInterest(subject), subject).toBe(expected)
      expect(sublist.hasInterest(subject), `${subject} cached`).toBe(expected)
    }
  })
})

describe("Sublist maintenance", () => {
  it("removes by identity and reports whether something was removed", () => {
    const first = new TestSubscriber("first", "foo")
    const twin = new TestSubscriber("twin", "foo")
    const sublist = sublistWith(first, twin)
    expect(sublist.count).toBe(2)
    expect(sublist.remove(new TestSubscriber("first", "foo"))).toBe(false)
    expect(sublist.remove(first)).toBe(true)
    expect(sublist.remove(first)).toBe(false)
    expect(plainNames(sublist.match("foo"))).toEqual(["twin"])
    expect(sublist.count).toBe(1)
  })

  it("treats inserting the same subscriber twice as one subscription", () => {
    const subscriber = new TestSubscriber("once", "foo", "q")
    const sublist = sublistWith(subscriber, subscriber)
    expect(sublist.count).toBe(1)
    expect(queueNames(sublist.match("foo"))).toEqual([["once"]])
  })

  it("removes queue subscribers and drops emptied groups", () => {
    const member = new TestSubscriber("m", "jobs", "workers")
    const sublist = sublistWith(member)
    expect(sublist.remove(new TestSubscriber("m", "jobs", "other"))).toBe(false)
    expect(sublist.remove(member)).toBe(true)
    expect(sublist.match("jobs")).toEqual({ plain: [], queues: [] })
  })

  it("prunes emptied trie nodes, so churn leaves nothing behind", () => {
    const sublist = new Sublist<TestSubscriber>()
    const root = (sublist as unknown as { root: object }).root
    const emptyRoot = JSON.stringify(root)
    for (let round = 0; round < 3; round++) {
      const subscribers = Array.from({ length: 500 }, (_, index) =>
        new TestSubscriber(`s${index}`, `_INBOX.conn${index % 7}.${index}.${index % 2 === 0 ? "*" : ">"}`, index % 3 === 0 ? "q" : undefined))
      for (const subscriber of subscribers) sublist.insert(subscriber)
      expect(sublist.count).toBe(500)
      for (const subscriber of subscribers) expect(sublist.remove(subscriber)).toBe(true)
      expect(sublist.count).toBe(0)
      expect(JSON.stringify(root)).toBe(emptyRoot)
    }
  })

  it("keeps nodes another subscription still needs", () => {
    const deep = new TestSubscriber("deep", "a.b.c")
    const shallow = new TestSubscriber("shallow", "a.b")
    const sublist = sublistWith(deep, shallow)
    sublist.remove(deep)
    expect(plainNames(sublist.match("a.b"))).toEqual(["shallow"])
    sublist.insert(deep)
    sublist.remove(shallow)
    expect(plainNames(sublist.match("a.b.c"))).toEqual(["deep"])
    expect(plainNames(sublist.match("a.b"))).toEqual([])
  })

  it("lists every subscriber", () => {
    const subscribers = [new TestSubscriber("a", "x"), new TestSubscriber("b", "x.*", "q"), new TestSubscriber("c", ">")]
    const sublist = sublistWith(...subscribers)
    expect([...sublist.subscribers()].map((subscriber) => subscriber.name).sort()).toEqual(["a", "b", "c"])
  })
})

describe("Sublist cache", () => {
  it("caches a subject on its second match and serves later matches from the cache", () => {
    const sublist = sublistWith(new TestSubscriber("a", "foo.*"))
    sublist.match("foo.bar")
    expect(sublist.stats()).toMatchObject({ numMatches: 1, numCache: 0 })
    const second = sublist.match("foo.bar")
    expect(sublist.match("foo.bar")).toBe(second)
    expect(sublist.stats()).toMatchObject({ numMatches: 3, numCache: 1, cacheHitRate: 1 / 3 })
  })

  it("keeps subjects matched again cached while one-off subjects pass through", () => {
    const sublist = new Sublist<TestSubscriber>({ cacheSize: 8 })
    sublist.insert(new TestSubscriber("keys", "get.*"))
    sublist.insert(new TestSubscriber("inbox", "_INBOX.client.*"))
    const keys = Array.from({ length: 8 }, (_, index) => `get.key${index}`)
    // Each request: one of a few keys, then a reply subject never seen before.
    for (let request = 0; request < 100; request++) {
      sublist.match(keys[request % keys.length])
      sublist.match(`_INBOX.client.${request}`)
    }
    const before = sublist.stats()
    for (const key of keys) sublist.match(key)
    const after = sublist.stats()
    expect(after.numMatches - before.numMatches).toBe(keys.length)
    expect(after.cacheHitRate * after.numMatches - before.cacheHitRate * before.numMatches).toBeCloseTo(keys.length)
  })

  it("does not serve a result cached before an insert", () => {
    const sublist = sublistWith(new TestSubscriber("a", "foo.*"))
    expect(plainNames(sublist.match("foo.bar"))).toEqual(["a"])
    expect(plainNames(sublist.match("nobody.here"))).toEqual([])
    sublist.insert(new TestSubscriber("b", "foo.>"))
    sublist.insert(new TestSubscriber("c", "nobody.*", "q"))
    expect(plainNames(sublist.match("foo.bar"))).toEqual(["a", "b"])
    expect(queueNames(sublist.match("nobody.here"))).toEqual([["c"]])
    expect(sublist.hasInterest("nobody.here")).toBe(true)
  })

  it("does not serve a result cached before a remove", () => {
    const leaving = new TestSubscriber("a", "foo.bar")
    const sublist = sublistWith(leaving)
    expect(sublist.hasInterest("foo.bar")).toBe(true)
    expect(plainNames(sublist.match("foo.bar"))).toEqual(["a"])
    sublist.remove(leaving)
    expect(sublist.hasInterest("foo.bar")).toBe(false)
    expect(plainNames(sublist.match("foo.bar"))).toEqual([])
  })

  it("shares one result between subjects that reach the same single node, until that node changes", () => {
    const sublist = sublistWith(new TestSubscriber("a", "_INBOX.client.*"), new TestSubscriber("other", "elsewhere"))
    const first = sublist.match("_INBOX.client.1")
    expect(sublist.match("_INBOX.client.2")).toBe(first)
    sublist.insert(new TestSubscriber("b", "_INBOX.client.*", "q"))
    const after = sublist.match("_INBOX.client.3")
    expect(plainNames(after)).toEqual(["a"])
    expect(queueNames(after)).toEqual([["b"]])
    expect(plainNames(first)).toEqual(["a"])
    expect(queueNames(first)).toEqual([])
  })

  it("stays within its size, evicting the oldest entries", () => {
    const sublist = new Sublist<TestSubscriber>({ cacheSize: 8 })
    sublist.insert(new TestSubscriber("all", ">"))
    for (let index = 0; index < 100; index++) for (let round = 0; round < 2; round++) sublist.match(`subject.${index}`)
    expect(sublist.stats().numCache).toBe(8)
    const recent = sublist.match("subject.99")
    expect(sublist.match("subject.99")).toBe(recent)
    sublist.match("subject.0")
    sublist.match("subject.0")
    expect(sublist.stats().numCache).toBe(8)
  })
})

describe("Sublist stats", () => {
  it("counts subscriptions, inserts, removes, matches and fanout", () => {
    const a = new TestSubscriber("a", "foo.*")
    const sublist = sublistWith(a, new TestSubscriber("b", "foo.>"), new TestSubscriber("q1", "foo.bar", "g"), new TestSubscriber("q2", "foo.bar", "g"))
    sublist.remove(a)
    // Matched twice, so cached: b + one queue group (fanout 2), and b alone (fanout 1).
    for (let round = 0; round < 2; round++) {
      sublist.match("foo.bar")
      sublist.match("foo.baz")
    }
    sublist.match("foo.bar")
    expect(sublist.stats()).toEqual({
      numSubscriptions: 3,
      numCache: 2,
      numInserts: 4,
      numRemoves: 1,
      numMatches: 5,
      cacheHitRate: 1 / 5,
      maxFanout: 2,
      avgFanout: 1.5
    })
  })
})

describe("Sublist against brute force", () => {
  it("agrees with filtering every subscription through subjectMatches", () => {
    let seed = 12345
    const next = (): number => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0
      return seed / 4294967296
    }
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]
    const literalTokens = ["a", "b", "c", "dd"]
    const randomPattern = (): string => {
      const length = 1 + Math.floor(next() * 4)
      const tokens = Array.from({ length }, () => (next() < 0.2 ? "*" : pick(literalTokens)))
      if (next() < 0.2) tokens[length - 1] = ">"
      return tokens.join(".")
    }
    const randomSubject = (): string => Array.from({ length: 1 + Math.floor(next() * 5) }, () => pick(literalTokens)).join(".")

    const sublist = new Sublist<TestSubscriber>({ cacheSize: 64 })
    const live: TestSubscriber[] = []
    for (let step = 0; step < 4000; step++) {
      const action = next()
      if (action < 0.3 || live.length === 0) {
        const subscriber = new TestSubscriber(`s${step}`, randomPattern(), next() < 0.3 ? pick(["q1", "q2"]) : undefined)
        sublist.insert(subscriber)
        live.push(subscriber)
      } else if (action < 0.45) {
        const [removed] = live.splice(Math.floor(next() * live.length), 1)
        expect(sublist.remove(removed)).toBe(true)
      } else {
        const subject = randomSubject()
        const matching = live.filter((subscriber) => subjectMatches(subscriber.subject, subject))
        const result = sublist.match(subject)
        expect(plainNames(result), subject).toEqual(matching.filter((s) => s.queue === undefined).map((s) => s.name).sort())
        const groups = new Map<string, string[]>()
        for (const subscriber of matching) {
          if (subscriber.queue !== undefined) groups.set(subscriber.queue, [...(groups.get(subscriber.queue) ?? []), subscriber.name])
        }
        const expectedGroups = [...groups.values()].map((names) => names.sort()).sort((a, b) => a[0].localeCompare(b[0]))
        expect(queueNames(result), subject).toEqual(expectedGroups)
        expect(sublist.hasInterest(subject)).toBe(matching.length > 0)
      }
      expect(sublist.count).toBe(live.length)
    }
    expect(sublist.stats().cacheHitRate).toBeGreaterThan(0)
  })
})
