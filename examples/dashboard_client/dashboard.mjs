// A dashboard's reads through Apollo Client (normalised InMemoryCache) against a running gateway:
// the roll-up of one target, the taskings list a page at a time (relayStylePagination joins the pages), and,
// with --subscribe, the first live update of the kinds named (graphql-transport-ws, token in connection_init).
//
// The operations are in ./operations/*.graphql; their TypeScript types (./generated/graphql.ts) come from the
// committed SDL by GraphQL Code Generator (codegen.yml). This script is plain JavaScript so it runs in node
// without a build step; the JSDoc types below name the generated ones for an editor.
//
//   node examples/dashboard_client/dashboard.mjs --url http://127.0.0.1:8000 --token "$TOKEN" --target <id> \
//        [--page-size 2] [--subscribe PROGRESS_REPORTED] [--timeout 30]
//
// It prints one JSON object: {rollup, taskings, pages, pageInfo, totalCount, update, warnings}; "warnings" are
// whatever Apollo Client logged (cache warnings included); a dashboard wants none.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const warnings = [];
for (const level of ["warn", "error"]) {
  const original = console[level].bind(console);
  console[level] = (...args) => {
    warnings.push(args.map(String).join(" "));
    original(...args);
  };
}

const { ApolloClient, HttpLink, InMemoryCache, gql, split } = await import("@apollo/client/core/index.js");
const { relayStylePagination, getMainDefinition } = await import("@apollo/client/utilities/index.js");
const { GraphQLWsLink } = await import("@apollo/client/link/subscriptions/index.js");
const { loadDevMessages, loadErrorMessages } = await import("@apollo/client/dev/index.js");
const { createClient } = await import("graphql-ws");
const { WebSocket } = await import("ws");

loadDevMessages();
loadErrorMessages();

const here = dirname(fileURLToPath(import.meta.url));
const operation = (name) => gql(readFileSync(join(here, "operations", `${name}.graphql`), "utf8"));
/** @type {import("@apollo/client").TypedDocumentNode<import("./generated/graphql").DashboardRollupQuery, import("./generated/graphql").DashboardRollupQueryVariables>} */
const ROLLUP = operation("rollup");
/** @type {import("@apollo/client").TypedDocumentNode<import("./generated/graphql").DashboardTaskingsQuery, import("./generated/graphql").DashboardTaskingsQueryVariables>} */
const TASKINGS = operation("taskings");
/** @type {import("@apollo/client").TypedDocumentNode<import("./generated/graphql").DashboardUpdatesSubscription, import("./generated/graphql").DashboardUpdatesSubscriptionVariables>} */
const UPDATES = operation("updates");

const { values } = parseArgs({
  options: {
    url: { type: "string" }, token: { type: "string" }, target: { type: "string" },
    "page-size": { type: "string", default: "2" }, subscribe: { type: "string" },
    timeout: { type: "string", default: "30" },
  },
});
if (!values.url || !values.token || !values.target) {
  console.error("usage: dashboard.mjs --url URL --token TOKEN --target TARGET_ID [--page-size N] [--subscribe KIND]");
  process.exit(2);
}

const headers = { authorization: `Bearer ${values.token}`, accept: "application/graphql-response+json" };
const http = new HttpLink({ uri: `${values.url}/graphql`, headers });
const sockets = createClient({
  url: `${values.url.replace(/^http/, "ws")}/graphql`, webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${values.token}` },
});
const link = split(({ query }) => {
  const definition = getMainDefinition(query);
  return definition.kind === "OperationDefinition" && definition.operation === "subscription";
}, new GraphQLWsLink(sockets), http);

const client = new ApolloClient({
  link,
  cache: new InMemoryCache({
    typePolicies: {
      Query: { fields: { taskingsConnection: relayStylePagination() } },
      // The roll-up's objects are keyed by the target and tasking they sum up.
      TargetRollup: { keyFields: ["targetId"] },
      ShareRollup: { keyFields: ["taskingId"] },
    },
  }),
});

const timeout = Number(values.timeout) * 1000;
const answer = {};
try {
  const rollup = await client.query({ query: ROLLUP, variables: { target: values.target } });
  answer.rollup = rollup.data.deliveryRollup;

  // The paged list: the first page, then fetchMore after each endCursor; the cache joins the pages.
  const first = Number(values["page-size"]);
  let page = (await client.query({ query: TASKINGS, variables: { first } })).data.taskingsConnection;
  const list = client.watchQuery({ query: TASKINGS, variables: { first } });
  answer.pages = [page.edges.map((edge) => edge.node.id)];
  while (page.pageInfo.hasNextPage) {
    const more = await list.fetchMore({ variables: { first, after: page.pageInfo.endCursor } });
    page = more.data.taskingsConnection;
    answer.pages.push(page.edges.map((edge) => edge.node.id));
  }
  const joined = client.readQuery({ query: TASKINGS, variables: { first } }).taskingsConnection;
  answer.taskings = joined.edges.map((edge) => ({ cursor: edge.cursor, ...edge.node }));
  answer.pageInfo = joined.pageInfo;
  answer.totalCount = joined.totalCount;
  answer.normalised = Object.keys(client.cache.extract()).filter((key) => key.startsWith("Tasking:")).length;

  if (values.subscribe) {
    answer.update = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no update within the timeout")), timeout);
      const subscription = client.subscribe({ query: UPDATES, variables: { kinds: [values.subscribe] } })
        .subscribe({
          next: (result) => { clearTimeout(timer); subscription.unsubscribe(); resolve(result.data.updates); },
          error: (error) => { clearTimeout(timer); reject(error); },
        });
      process.stderr.write("subscribed\n");
    });
  }
} catch (error) {
  answer.error = String(error?.stack ?? error);
}
answer.warnings = warnings;
await sockets.dispose();
client.stop();
process.stdout.write(JSON.stringify(answer) + "\n");
process.exit(answer.error ? 1 : 0);
