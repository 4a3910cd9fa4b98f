export * from "./BrokerConfig.ts"
export * from "./Broker.ts"
