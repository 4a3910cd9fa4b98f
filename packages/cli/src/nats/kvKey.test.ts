import { describe, expect, it } from "vitest"
import { assertBucketName } from "./bucketName.ts"
import { assertKey, assertKeyPattern } from "./kvKey.ts"

describe("KV names", () => {
  it.each(["config", "db_host", "a-b", "A1"])("accepts the bucket %j", (name) => expect(() => assertBucketName(name)).not.toThrow())
  it.each(["", "a.b", "a b", "a*", "a/b"])("rejects the bucket %j", (name) => expect(() => assertBucketName(name)).toThrow(/invalid bucket name/))

  it.each(["db_host", "app.db.host", "a/b=c", "-x-", "_kv"])("accepts the key %j", (key) => expect(() => assertKey(key)).not.toThrow())
  it.each(["", ".a", "a.", "a..b", "a b", "a*", "a.>", "ключ"])("rejects the key %j", (key) => expect(() => assertKey(key)).toThrow(/invalid key/))

  it.each([">", "*", "app.*", "app.>", "*.db.*", "exact.key"])("accepts the pattern %j", (pattern) => expect(() => assertKeyPattern(pattern)).not.toThrow())
  it.each(["", "a.>.b", "a..b", "a*", ".a", "a b"])("rejects the pattern %j", (pattern) => expect(() => assertKeyPattern(pattern)).toThrow(/invalid key pattern/))
})
