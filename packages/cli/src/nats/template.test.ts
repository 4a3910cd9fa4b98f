import { describe, expect, it } from "vitest"
import { expandTemplate } from "./template.ts"

describe("expandTemplate", () => {
  it("fills in natscli's placeholders, as functions or fields", () => {
    const values = { count: 3, request: "ping", subject: "svc.echo" }
    expect(expandTemplate("#{{Count}} #{{.Count}} #{{ Count }} #{{Cnt}}", values)).toBe("#3 #3 #3 #3")
    expect(expandTemplate("{{.Request}} on {{.Subject}} / {{Request}}", values)).toBe("ping on svc.echo / ping")
    expect(expandTemplate("{{Random 5 5}}", values)).toMatch(/^[A-Za-z0-9]{5}$/)
    expect(expandTemplate("{{ID}}", values)).toMatch(/^[A-Za-z0-9]{22}$/)
    expect(expandTemplate("{{Unix}}", values)).toMatch(/^\d{10}$/)
  })

  it("leaves what it does not know alone", () => {
    expect(expandTemplate("{{Nope}} {{.Request}} {", { count: 1 })).toBe("{{Nope}} {{.Request}} {")
    expect(expandTemplate("plain", { count: 1 })).toBe("plain")
  })
})
