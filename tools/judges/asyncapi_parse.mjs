// @asyncapi/parser, the official AsyncAPI parser, on one document: prints its diagnostics as JSON lines
// ({severity, code, message, path}) and exits 0; the test decides. Run by tests/unit/partners/test_judges.py.
import { pathToFileURL } from "node:url";
import { Parser, fromFile } from "@asyncapi/parser";

const [file] = process.argv.slice(2);
const parser = new Parser();
const { diagnostics } = await fromFile(parser, file).parse({
  source: pathToFileURL(file).href,
  validateOptions: { allowedSeverity: { error: false, warning: true, info: true, hint: true } },
});
const severities = ["error", "warning", "info", "hint"];
for (const d of diagnostics) {
  console.log(JSON.stringify({ severity: severities[d.severity], code: d.code, message: d.message,
                               path: d.path.join(".") }));
}
