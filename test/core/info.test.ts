import { describe, expect, it } from "vitest"
import { diffTargets, officialClients, openRawConnection, referenceComparison, useTarget } from "../support/index.ts"

const compare = referenceComparison()
const semver = /^\d+\.\d+\.\d+/

describe.each(diffTargets())("$name", (target) => {
  describe.skipIf(!target.available)("server INFO", () => {
    const server = useTarget(target)

    it.each(officialClients)("$name sees the INFO fields clients depend on", async (client) => {
      const connection = await client.connect({ servers: server().url })
      try {
        const info = connection.info as Record<string, unknown>
        expect(info.proto).toBe(1)
        expect(info.headers).toBe(true)
        expect(info.max_payload).toBe(1048576)
        expect(typeof info.client_id).toBe("number")
        expect(info.version).toMatch(semver)
        expect(typeof info.server_id).toBe("string")
        expect(info.auth_required).toBeUndefined()
        expect(info.tls_required).toBeUndefined()
        expect(info.tls_available).toBeUndefined()
        compare(target.name, `client INFO ${client.name}`, {
          proto: info.proto,
          headers: info.headers,
          max_payload: info.max_payload,
          client_ip: info.client_ip
        })
      } finally {
        await connection.close()
      }
    })

    it("gives every connection its own client_id", async () => {
      const first = await openRawConnection(server().port)
      const second = await openRawConnection(server().port)
      try {
        expect(first.info.client_id).not.toBe(second.info.client_id)
        expect(Object.keys(first.info)).toEqual(expect.arrayContaining(["server_id", "version", "proto", "headers", "max_payload", "client_id"]))
      } finally {
        first.close()
        second.close()
      }
    })
  })
})
