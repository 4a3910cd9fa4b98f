import { UsageError } from "./CliError.ts"

/** Throws a UsageError unless `name` can name a KV or object store bucket (the clients' `^[-\w]+$`). */
export const assertBucketName = (name: string): void => {
  if (!/^[-\w]+$/.test(name)) {
    throw new UsageError(`invalid bucket name ${JSON.stringify(name)}: expected letters, digits, - and _ only`)
  }
}
