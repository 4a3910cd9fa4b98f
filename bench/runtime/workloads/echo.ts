import { defineHandler } from "@nex/sdk"

/** Answers with the request's bytes, as the plain reference responder does; as a job it just succeeds. */
export default defineHandler((message) => message.data)
