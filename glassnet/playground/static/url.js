// The whole experiment in the URL: settings that differ from the defaults, the display options and the hidden
// controls, so that a link reproduces an experiment (and a classroom link can hide controls).

export const CLIENT_DEFAULTS = { show_test: false, discretize: false, hide: [] };

function encode(value) {
  return Array.isArray(value) ? value.join(",") : String(value);
}

function decode(kind, text) {
  if (kind === "bool") return text === "true";
  if (kind === "int" || kind === "float") return Number(text);
  if (kind === "int_list") return text === "" ? [] : text.split(",").map(Number);
  if (kind === "choice_list") return text === "" ? [] : text.split(",");
  return text;
}

/** Read the URL: server settings (parsed by the schema's kinds) and client options. */
export function readUrl(schema, search = window.location.search) {
  const params = new URLSearchParams(search);
  const settings = {};
  for (const [name, spec] of Object.entries(schema)) {
    if (params.has(name)) settings[name] = decode(spec.kind, params.get(name));
  }
  const client = {
    show_test: params.get("show_test") === "true",
    discretize: params.get("discretize") === "true",
    hide: params.has("hide") ? params.get("hide").split(",").filter(Boolean) : [],
  };
  return { settings, client };
}

/** Write the state into the URL without adding a history entry. */
export function writeUrl(schema, settings, client) {
  const params = new URLSearchParams();
  for (const [name, spec] of Object.entries(schema)) {
    if (name in settings && encode(settings[name]) !== encode(spec.default)) params.set(name, encode(settings[name]));
  }
  if (client.show_test) params.set("show_test", "true");
  if (client.discretize) params.set("discretize", "true");
  if (client.hide.length) params.set("hide", client.hide.join(","));
  const query = params.toString();
  const url = `${window.location.pathname}${query ? `?${query}` : ""}`;
  if (url !== `${window.location.pathname}${window.location.search}`) window.history.replaceState(null, "", url);
}
