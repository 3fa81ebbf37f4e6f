// The whole experiment in the URL: settings that differ from the defaults, the display options and the hidden
// controls, so that a link reproduces an experiment (and a classroom link can hide controls). A parameter the page
// cannot read is ignored with a note, keeping the rest; the server checks ranges and choices the same way.

export const CLIENT_DEFAULTS = { show_test: false, discretize: false, explain: true, hide: [] };
const CLIENT_FLAGS = ["show_test", "discretize", "explain"];
const EXPECTED = { int: "a whole number", float: "a number", bool: "true or false", int_list: "whole numbers" };

function encode(value) {
  return Array.isArray(value) ? value.join(",") : String(value);
}

/** The value of `text` for a setting of this kind, or undefined when it cannot be one. */
function decode(kind, text) {
  const number = (t) => (t.trim() !== "" && Number.isFinite(Number(t)) ? Number(t) : undefined);
  if (kind === "bool") return { true: true, false: false }[text];
  if (kind === "int") return Number.isInteger(number(text)) ? number(text) : undefined;
  if (kind === "float") return number(text);
  if (kind === "int_list") {
    const items = text === "" ? [] : text.split(",").map(number);
    return items.every(Number.isInteger) ? items : undefined;
  }
  if (kind === "choice_list") return text === "" ? [] : text.split(",");
  return text;
}

/** Read the URL: server settings (parsed by the schema's kinds), client options, and what was ignored (in words). */
export function readUrl(schema, search = window.location.search) {
  const params = new URLSearchParams(search);
  const settings = {};
  const client = { ...CLIENT_DEFAULTS, hide: [] };
  const ignored = [];
  for (const [name, text] of params) {
    const spec = schema[name];
    if (spec) {
      const value = decode(spec.kind, text);
      if (value === undefined) ignored.push(`${spec.label} “${text}” (${EXPECTED[spec.kind]} was expected)`);
      else settings[name] = value;
    } else if (CLIENT_FLAGS.includes(name)) {
      if (text === "true" || text === "false") client[name] = text === "true";
      else ignored.push(`${name.replace(/_/g, " ")} “${text}” (true or false was expected)`);
    } else if (name === "hide") {
      client.hide = text.split(",").filter(Boolean);
    } else {
      ignored.push(`“${name}” (the playground has no such setting)`);
    }
  }
  return { settings, client, ignored };
}

/** Write the state into the URL without adding a history entry. */
export function writeUrl(schema, settings, client) {
  const params = new URLSearchParams();
  for (const [name, spec] of Object.entries(schema)) {
    if (name in settings && encode(settings[name]) !== encode(spec.default)) params.set(name, encode(settings[name]));
  }
  for (const flag of CLIENT_FLAGS) {
    if (client[flag] !== CLIENT_DEFAULTS[flag]) params.set(flag, String(client[flag]));
  }
  if (client.hide.length) params.set("hide", client.hide.join(","));
  const query = params.toString();
  const url = `${window.location.pathname}${query ? `?${query}` : ""}`;
  if (url !== `${window.location.pathname}${window.location.search}`) window.history.replaceState(null, "", url);
}
