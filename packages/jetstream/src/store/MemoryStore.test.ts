import { openMemoryStore } from "./MemoryStore.ts"
import { storeSuite } from "./store.suite.ts"

storeSuite("memory store", async (limits) => openMemoryStore({ limits }))
