/** Why an invocation produced no reply; sent as the `Nex-Error` header (`<code>: <detail>`). */
export interface Failure {
  readonly code:
    | "timeout"
    | "memory_limit"
    | "user_error"
    | "isolate_lost"
    | "mailbox_full"
    | "payload_too_large"
    | "unavailable"
    | "internal_error"
  readonly detail: string
}

export const errorHeader = "Nex-Error"

const maximumDetailLength = 512

/** Header values must stay on one line and short. */
const sanitize = (text: string): string => {
  const line = text.replace(/[\r\n\t]+/g, " ").replace(/[^\x20-\x7e\u00a0-\uffff]/g, "?")
  return line.length > maximumDetailLength ? `${line.slice(0, maximumDetailLength)}...` : line
}

export const failure = (code: Failure["code"], detail = ""): Failure => ({ code, detail: sanitize(detail) })

export const failureText = (failure: Failure): string => (failure.detail === "" ? failure.code : `${failure.code}: ${failure.detail}`)

export const timeoutFailure = (timeoutMs: number): Failure => failure("timeout", `exceeded ${timeoutMs} ms`)

const memoryMessages = ["memory limit", "Array buffer allocation failed", "Unable to deserialize cloned data"]

/** "was disposed during execution": the call was running (or waiting on a promise) when the isolate went. */
const lostMessages = ["Isolate is disposed", "Isolate was disposed", "Promise was abandoned"]

/** Maps an isolated-vm rejection to a failure (deadlines are the watchdog's, so no timeouts come from here). */
export const classifyIsolateError = (message: string): Failure => {
  if (memoryMessages.some((text) => message.includes(text))) return failure("memory_limit")
  if (lostMessages.some((text) => message.includes(text))) return failure("isolate_lost", message)
  return failure("internal_error", message)
}

/** A guest error message: memory exhaustion the guest caught and rethrew is still a limit hit. */
export const classifyGuestError = (message: string): Failure =>
  memoryMessages.some((text) => message.includes(text)) ? failure("memory_limit") : failure("user_error", message)
