// Runs the GraphQL over HTTP audits of graphql-http (the reference implementation's suite) against a server and
// prints the results as JSON: one {id, name, status, reason} per audit; status is ok, notice, warn or error.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
const results = await auditServer({ url });
const out = [];
for (const result of results) {
  out.push({ id: result.id, name: result.name, status: result.status, reason: result.reason ?? null });
}
console.log(JSON.stringify(out));
