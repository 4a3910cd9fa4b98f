import { UsageError } from "./CliError.ts"

const keyCharacters = /^[-/=.\w]+$/

const badDots = (key: string): boolean => key.startsWith(".") || key.endsWith(".") || key.includes("..")

/** Throws a UsageError unless `key` is a valid KV key: the clients' characters, its dots between tokens. */
export const assertKey = (key: string): void => {
  if (!keyCharacters.test(key) || badDots(key)) {
    throw new UsageError(`invalid key ${JSON.stringify(key)}: expected letters, digits and - / _ = . with dots only between tokens`)
  }
}

/** Like assertKey, but whole tokens may be the wildcards `*` and, last, `>` (a watch or listing filter). */
export const assertKeyPattern = (pattern: string): void => {
  const tokens = pattern.split(".")
  const valid = tokens.every((token, index) => token === "*" || (token === ">" && index === tokens.length - 1) || (token !== "" && keyCharacters.test(token)))
  if (!valid) {
    throw new UsageError(`invalid key pattern ${JSON.stringify(pattern)}: expected a key whose tokens may be * or, last, >`)
  }
}
