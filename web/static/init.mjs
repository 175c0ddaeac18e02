// GOV.UK Frontend's components, once the page can run them (the pages work without: this only enhances).
import { initAll, isSupported } from "/assets/govuk-frontend.min.js";

document.body.classList.add("js-enabled");
if ("noModule" in HTMLScriptElement.prototype) {
  document.body.classList.add("govuk-frontend-supported");
}
if (isSupported()) {
  initAll();
}
