// Runtime re-exports of graphql-yoga and its plugins; yoga.d.ts declares
// the slice of their API the edge uses (see there for why).
export { createYoga, createSchema, Repeater } from "graphql-yoga";
export { useCSRFPrevention } from "@graphql-yoga/plugin-csrf-prevention";
export { useDisableIntrospection } from "@graphql-yoga/plugin-disable-introspection";
export { usePersistedOperations } from "@graphql-yoga/plugin-persisted-operations";
export { EnvelopArmorPlugin } from "@escape.tech/graphql-armor";
