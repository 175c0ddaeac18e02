// One Apollo cache, the same target's taskings in force on two days: each read at a moment other than now has an
// id naming that moment (services/reporting/graphql_node.py), so InMemoryCache keeps the tasking at each date as
// its own object and both answers read back from the cache as the gateway gave them.
//
//   node examples/dashboard_client/two_dates.mjs --url URL --token TOKEN --target ID --on 2011-06-01 --on 2011-07-01
//
// Prints {answers: [[tasking...] per day, read back from the cache], cached: [cache keys of taskings], warnings}.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const warnings = [];
for (const level of ["warn", "error"]) {
  const original = console[level].bind(console);
  console[level] = (...args) => { warnings.push(args.map(String).join(" ")); original(...args); };
}
const { ApolloClient, HttpLink, InMemoryCache, gql } = await import("@apollo/client/core/index.js");
const { loadDevMessages, loadErrorMessages } = await import("@apollo/client/dev/index.js");
loadDevMessages();
loadErrorMessages();

const here = dirname(fileURLToPath(import.meta.url));
/** @type {import("@apollo/client").TypedDocumentNode<import("./generated/graphql").TaskingsInForceQuery, import("./generated/graphql").TaskingsInForceQueryVariables>} */
const IN_FORCE = gql(readFileSync(join(here, "operations", "taskings_in_force.graphql"), "utf8"));

const { values } = parseArgs({
  options: { url: { type: "string" }, token: { type: "string" }, target: { type: "string" },
             on: { type: "string", multiple: true } },
});
const client = new ApolloClient({
  link: new HttpLink({ uri: `${values.url}/graphql`, headers: { authorization: `Bearer ${values.token}` } }),
  cache: new InMemoryCache(),
});
for (const on of values.on) {
  await client.query({ query: IN_FORCE, variables: { target: values.target, on }, fetchPolicy: "network-only" });
}
// After every day was fetched, each day's answer as the one cache now holds it.
const answers = values.on.map((on) => client.readQuery({ query: IN_FORCE, variables: { target: values.target, on } })
  .taskings.map(({ __typename, ...tasking }) => tasking));
const cached = Object.keys(client.cache.extract()).filter((key) => key.startsWith("Tasking:"));
client.stop();
process.stdout.write(JSON.stringify({ answers, cached, warnings }) + "\n");
