"""Partner integration: the published contracts (JSON Schema, AsyncAPI, OpenAPI, GraphQL SDL) and their evolution."""
