import { timingSafeEqual } from "node:crypto"
import type { Auth } from "./BrokerConfig.ts"
import { UserPermissions } from "./Permissions.ts"

/** The credential fields of a CONNECT. */
export interface Credentials {
  readonly auth_token?: unknown
  readonly user?: unknown
  readonly pass?: unknown
}

export interface Identity {
  readonly user: string | undefined
  readonly permissions: UserPermissions | undefined
}

const sameSecret = (given: unknown, expected: string): boolean => {
  if (typeof given !== "string") return false
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Checks CONNECT credentials against the configured token or users; undefined means refused. */
export class Authenticator {
  readonly required: boolean
  private readonly token: string | undefined
  private readonly users: Map<string, { password: string; permissions: UserPermissions | undefined }>

  constructor(auth: Auth | undefined) {
    this.required = auth !== undefined
    this.token = auth !== undefined && "token" in auth ? auth.token : undefined
    this.users = new Map()
    if (auth !== undefined && "users" in auth) {
      for (const user of auth.users) {
        this.users.set(user.user, {
          password: user.password,
          permissions: user.permissions === undefined ? undefined : new UserPermissions(user.permissions)
        })
      }
    }
  }

  /**
   * Admits one more user, with every permission, whatever the configured auth (the node's own
   * runtime signs in so); the caller picks a name no configured user has and an unguessable password.
   */
  admit(user: string, password: string): void {
    if (this.users.has(user)) throw new Error(`user ${user} is already configured`)
    this.users.set(user, { password, permissions: undefined })
  }

  authenticate(credentials: Credentials): Identity | undefined {
    if (!this.required) return { user: undefined, permissions: undefined }
    if (this.token !== undefined && sameSecret(credentials.auth_token, this.token)) return { user: undefined, permissions: undefined }
    if (typeof credentials.user !== "string") return undefined
    const user = this.users.get(credentials.user)
    if (user === undefined || !sameSecret(credentials.pass, user.password)) return undefined
    return { user: credentials.user, permissions: user.permissions }
  }
}
