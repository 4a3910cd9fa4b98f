import { defineHandler } from "@nex/sdk"

/**
 * `count.<key>` -> the key's new count, kept in KV bucket `counters`. Deployed with
 * concurrency 1 (and one replica), invocations run one at a time in arrival order, so the
 * read-increment-write never races.
 */
export default defineHandler(async (message, context) => {
  const key = message.subject.split(".").slice(1).join(".") || "default"
  const counters = context.kv("counters")
  const current = await counters.get(key)
  const next = (current === null ? 0 : Number(current.text())) + 1
  await counters.put(key, String(next))
  return { key, count: next }
})
