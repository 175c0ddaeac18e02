"""The web pages, in the GOV.UK Design System: public pages (no sign-in, no JavaScript needed), scrutiny pages and
the officer workspace. Every page is rendered on the server from the GraphQL schema, executed in process as the
caller (the public pages as ``shared.auth.PUBLIC``); docs/architecture.md says why."""
