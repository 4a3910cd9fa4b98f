import { UsageError } from "./CliError.ts"

/**
 * Why `subject` is not a valid subject, or undefined when it is. Publish subjects may not hold
 * wildcards; subscriptions may use `*` as a whole token and `>` as the last token.
 */
export const subjectProblem = (subject: string, options: { readonly wildcards: boolean }): string | undefined => {
  if (subject === "") return "a subject cannot be empty"
  if (/\s/.test(subject)) return "a subject cannot contain whitespace"
  const tokens = subject.split(".")
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index]
    if (token === "") return "a subject cannot have an empty token (leading, trailing or double dot)"
    if (token === "*" || token === ">") {
      if (!options.wildcards) return "wildcards (* and >) are only allowed when subscribing"
      if (token === ">" && index !== tokens.length - 1) return "> is only allowed as the last token"
    }
  }
  return undefined
}

/** Throws a UsageError naming the subject (and the flag it came from) when it is not valid. */
export const assertSubject = (subject: string, options: { readonly wildcards: boolean; readonly flag?: string }): void => {
  const problem = subjectProblem(subject, options)
  if (problem !== undefined) {
    throw new UsageError(`invalid subject ${JSON.stringify(subject)}${options.flag === undefined ? "" : ` for ${options.flag}`}: ${problem}`)
  }
}

/** Throws a UsageError when `queue` cannot name a queue group. */
export const assertQueueGroup = (queue: string): void => {
  if (queue === "" || /[\s.*>]/.test(queue)) {
    throw new UsageError(`invalid queue group ${JSON.stringify(queue)} for --queue: expected a name without spaces, dots or wildcards`)
  }
}
